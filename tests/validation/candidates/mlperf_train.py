import sys, json, re, subprocess, statistics, os
repo = sys.argv[1]; pat = re.compile(sys.argv[2])
def git(*a): return subprocess.run(['git','-C',repo]+list(a),capture_output=True,text=True,errors='replace').stdout
files = [f for f in git('ls-tree','-r','--name-only','HEAD').splitlines() if pat.search(f) and re.search(r'/result_\d+\.txt$', f)]
groups = {}
for f in files:
    groups.setdefault(os.path.dirname(f), []).append(f)
for d, fs in sorted(groups.items()):
    ttts=[]; thr=[]; info={}
    for f in sorted(fs):
        start=stop=None; tl=[]
        for line in git('show','HEAD:'+f).splitlines():
            i=line.find(':::MLLOG ')
            if i<0: continue
            try: j=json.loads(line[i+9:])
            except Exception: continue
            k=j.get('key'); v=j.get('value')
            if k=='run_start': start=j['time_ms']
            elif k=='run_stop': stop=j['time_ms']; info['status']=j.get('metadata',{}).get('status')
            elif k in ('global_batch_size','d_batch_size','train_samples','gradient_accumulation_steps','max_sequence_length','opt_base_learning_rate','submission_platform','max_steps','eval_samples','tensor_model_parallel_size','pipeline_model_parallel_size') and k not in info: info[k]=v
            elif k=='tracked_stats' and isinstance(v,dict):
                for kk,vv in v.items():
                    if 'throughput' in kk or kk in ('tokens_per_sec',): tl.append(vv)
        if start and stop: ttts.append((stop-start)/60000.0)
        if len(tl)>2: thr.append(statistics.median(tl[1:]))
    ttts_s=sorted(ttts)
    print(d, '| n_runs', len(fs), '| TTT min (median of runs)', round(statistics.median(ttts_s),3) if ttts_s else None,
          '| median tracked throughput', round(statistics.median(thr),1) if thr else None, '|', json.dumps(info))
