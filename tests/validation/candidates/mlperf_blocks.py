import sys, json, re, subprocess, statistics, os
repo = sys.argv[1]; pat = re.compile(sys.argv[2])
def git(*a): return subprocess.run(['git','-C',repo]+list(a),capture_output=True,text=True,errors='replace').stdout
files = [f for f in git('ls-tree','-r','--name-only','HEAD').splitlines() if pat.search(f) and re.search(r'/result_\d+\.txt$', f)]
groups = {}
for f in files: groups.setdefault(os.path.dirname(f), []).append(f)
for d, fs in sorted(groups.items()):
    rates=[]; info={}; ttts=[]
    for f in sorted(fs):
        bs=None; cnt=None; run=[]; start=stop=None
        for line in git('show','HEAD:'+f).splitlines():
            i=line.find(':::MLLOG ')
            if i<0: continue
            try: j=json.loads(line[i+9:])
            except Exception: continue
            k=j.get('key'); md=j.get('metadata',{}) or {}
            if k=='run_start': start=j['time_ms']
            elif k=='run_stop': stop=j['time_ms']
            elif k=='global_batch_size' and 'gbs' not in info: info['gbs']=j['value']
            elif k=='submission_platform' and 'plat' not in info: info['plat']=j['value']
            elif k=='block_start': bs=j['time_ms']; cnt=md.get('epoch_count')
            elif k=='block_stop' and bs is not None and cnt:
                dt=(j['time_ms']-bs)/1000.0
                if dt>0: run.append((cnt,dt))
                bs=None
        if start and stop: ttts.append((stop-start)/60000)
        if len(run)>=2:
            r=[c/t for c,t in run[1:]]  # skip first block
            rates.append(statistics.median(r)); info['block_count']=run[1][0]; info['block_s_median']=round(statistics.median([t for c,t in run[1:]]),2)
    print(d,'| runs',len(fs),'| TTT med min',round(statistics.median(ttts),3) if ttts else None,'| block-rate (units/s, median over runs)', round(statistics.median(rates),1) if rates else None,'|',json.dumps(info))
