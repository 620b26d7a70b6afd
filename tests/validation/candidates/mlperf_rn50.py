import sys, json, re, subprocess, statistics, os
repo = sys.argv[1]; pat = re.compile(sys.argv[2])
def git(*a): return subprocess.run(['git','-C',repo]+list(a),capture_output=True,text=True,errors='replace').stdout
files = [f for f in git('ls-tree','-r','--name-only','HEAD').splitlines() if pat.search(f) and re.search(r'/resnet/result_\d+\.txt$', f)]
groups = {}
for f in files: groups.setdefault(os.path.dirname(f), []).append(f)
for d, fs in sorted(groups.items()):
    rates=[]; tr=[]; gbs=None; plat=None; ttt=[]
    for f in sorted(fs):
        bs=None; cnt=None; run=[]; t=[]; st=sp=None
        for line in git('show','HEAD:'+f).splitlines():
            i=line.find(':::MLLOG ')
            if i<0: continue
            try: j=json.loads(line[i+9:])
            except Exception: continue
            k=j.get('key'); md=j.get('metadata',{}) or {}
            if k=='global_batch_size': gbs=j['value']
            elif k=='submission_platform': plat=j['value']
            elif k=='run_start': st=j['time_ms']
            elif k=='run_stop': sp=j['time_ms']
            elif k=='block_start': bs=j['time_ms']; cnt=md.get('epoch_count')
            elif k=='block_stop' and bs is not None and cnt:
                dt=(j['time_ms']-bs)/1000.0
                if dt>0: run.append(cnt*1281167/dt)
                bs=None
            elif k=='tracked_stats' and isinstance(j['value'],dict) and 'throughput' in j['value']: t.append(j['value']['throughput'])
        if len(run)>=3: rates.append(statistics.median(run[1:]))
        if len(t)>=3: tr.append(statistics.median(t[1:]))
        if st and sp: ttt.append((sp-st)/60000)
    print(f"{d} | plat={plat} gbs={gbs} | block-derived img/s={round(statistics.median(rates)) if rates else None} | tracked img/s={round(statistics.median(tr)) if tr else None} | TTT min={round(statistics.median(ttt),3) if ttt else None} | runs={len(fs)}")
