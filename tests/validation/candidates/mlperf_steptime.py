import sys, json, re, subprocess, statistics, os
repo = sys.argv[1]; pat = re.compile(sys.argv[2])
def git(*a): return subprocess.run(['git','-C',repo]+list(a),capture_output=True,text=True,errors='replace').stdout
files = [f for f in git('ls-tree','-r','--name-only','HEAD').splitlines() if pat.search(f) and re.search(r'/result_\d+\.txt$', f)]
groups = {}
for f in files: groups.setdefault(os.path.dirname(f), []).append(f)
for d, fs in sorted(groups.items()):
    meds=[]; info={}
    for f in sorted(fs):
        st=[]
        for line in git('show','HEAD:'+f).splitlines():
            i=line.find(':::MLLOG ')
            if i<0: continue
            try: j=json.loads(line[i+9:])
            except Exception: continue
            k=j.get('key'); v=j.get('value')
            if k in ('global_batch_size','max_sequence_length','submission_platform','gradient_accumulation_steps') and k not in info: info[k]=v
            if k=='tracked_stats' and isinstance(v,dict) and 'train_step_time' in v: st.append(v['train_step_time'])
        if len(st)>5: meds.append(statistics.median(st[3:]))
    if meds: print(d,'| runs',len(meds),'| median train_step_time s',round(statistics.median(meds),4),'| min/max run-median',round(min(meds),4),round(max(meds),4),'|',json.dumps(info))
    else: print(d,'| no train_step_time')
