"""Turns bench/run.sh's measurements into the Markdown report (bench/results/latest.md): one
table per database and scale with each case's ratio to the bare-axum baseline measured in the
same run at the same connection count, the reference OAuth server's numbers, and issue 12's
targets checked against what was measured. Usage: report.py ROWS ARGON2_PER_S SECS"""
import datetime, os, platform, subprocess, sys

rows_file, argon2, secs = sys.argv[1], float(sys.argv[2] or 0), sys.argv[3]
rows = []
for line in open(rows_file):
    label, conns, res, usage = line.rstrip("\n").split("\t")
    m = dict(kv.split("=") for kv in (res + " " + usage).split())
    m = {k: float(v) for k, v in m.items()}
    # Successful answers per second: what the targets are about (a 503 is not a log-in).
    m["rps"] = m["rps"] * (m["requests"] - m["non2xx"]) / m["requests"] if m["requests"] else 0.0
    rows.append((label.split("|"), int(conns), m))

baseline = {c: m["rps"] for (l, c, m) in rows if l[0] == "baseline" and len(l) == 2}
# The baseline measured again just before each database and scale: the machine's other tenants
# move every rate over a run, so each case is compared with the nearest measurement of the ceiling.
near = {(l[2], int(l[3]), c): m["rps"] for (l, c, m) in rows if l[0] == "baseline" and len(l) == 4}
def ceiling(backend, scale, c):
    return near.get((backend, scale, c)) or baseline.get(c)
peer = {(l[1], c): m["rps"] for (l, c, m) in rows if l[0] == "peer" and len(l) == 2}
near_peer = {(l[1], l[2], int(l[3]), c): m["rps"] for (l, c, m) in rows if l[0] == "peer" and len(l) == 4}

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return "?"

cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2/1048576}' /proc/meminfo")
out = []
w = out.append
w(f"# Gatehouse load benchmark — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n")
wrk = sh("wrk --version 2>&1 | head -1 | cut -d' ' -f1-2")
node = sh("node --version")
w(f"Machine: {os.cpu_count()} CPUs ({cpu}), {mem}, Linux {platform.release()}; {wrk}; "
  f"node {node}. Client and servers share the machine. Each case: `wrk -t2 -cN -d{secs}s --latency` "
  "(two threads; at 2 connections, one connection each). Ratios are what to compare; "
  "absolute numbers vary between machines and runs. Rates count successful (2xx/3xx) answers only.\n")
w("Ceilings measured in this run: the bare axum baseline (`bench/baseline`, a fixed JSON body the size of "
  "`users/me`) — " + ", ".join(f"{baseline[c]:,.0f} req/s at {c} connections" for c in sorted(baseline))
  + " at the start (and again before each database and scale: each case's ratio is to that one, "
  "shown in its section)"
  + f"; bare Argon2id verification at Gatehouse's parameters on every CPU — {argon2:,.1f}/s at the start "
  "(and again just before each Argon2id case: its ratio is to that one, shown as `bare` in the table).\n")
if peer:
    w("## Reference: node-oidc-provider (in-memory store, `../shared/peers/oidc-provider`)\n")
    w("| case | conns | req/s |\n|---|---:|---:|")
    for (name, c), rps in sorted(peer.items()):
        w(f"| {name} | {c} | {rps:,.0f} |")
    for (name, backend, scale, c), rps in sorted(near_peer.items()):
        w(f"| {name}, again before {backend} at {scale:,} | {c} | {rps:,.0f} |")
    w("")

def mib(kb):
    return kb / 1024

groups = {}
for l, c, m in rows:
    if l[0] in ("baseline", "peer"):
        continue
    groups.setdefault((l[0], int(l[1])), []).append((l[2], c, m))
for (backend, scale), items in groups.items():
    w(f"## {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}, {scale:,} live credentials\n")
    if any(k[:2] == (backend, scale) for k in near):
        w("Baseline measured just before: " + ", ".join(
            f"{near[(backend, scale, c)]:,.0f} req/s at {c} connections"
            for c in sorted(c for (b, sc, c) in near if (b, sc) == (backend, scale))) + ".\n")
    w("| case | conns | 2xx req/s | × baseline | p50 ms | p99 ms | server CPU s | peak RSS MiB | non-2xx |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, c, m in items:
        ratio = m["rps"] / ceiling(backend, scale, c) if ceiling(backend, scale, c) else 0
        shown = f"{ratio:.3f}"
        if m.get("bare_argon2"):
            shown = f"{m['rps'] / m['bare_argon2']:.2f} × bare ({m['bare_argon2']:,.0f}/s)"
        w(f"| {name} | {c} | {m['rps']:,.0f} | {shown} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
          f"{m['cpu_s']:.2f} | {mib(m['rss_kb']):.1f} | {int(m['non2xx'] + m['errors'])} |")
    w("")

# Issue 12's targets, checked at the highest connection count measured.
top = max(baseline) if baseline else 50
def get(backend, scale, name, c=top):
    for l, cc, m in rows:
        if l[0] == backend and int(l[1]) == scale and l[2] == name and cc == c:
            return m
    return None

w(f"## Targets (issue 12) at {top} connections\n")
w("| target | measured | met |\n|---|---|---|")
cred = ["API key (ApiKey): GET users/me", "OAuth 2.0 access token: GET users/me",
        "application password: GET users/me", "cookie + nonce: GET users/me"]
scales = sorted({s for (_, s) in groups})
for backend in sorted({b for (b, _) in groups}):
    for name in cred:
        m = get(backend, scales[-1], name)
        if m:
            r = m["rps"] / ceiling(backend, scales[-1], top)
            w(f"| {backend}: {name} ≥ 0.5 × baseline | {r:.3f} × | {'yes' if r >= 0.5 else 'no'} |")
    for name in ["anonymous: GET posts?per_page=10", "site key: GET posts?per_page=10"]:
        m = get(backend, scales[-1], name)
        if m:
            r = m["rps"] / ceiling(backend, scales[-1], top)
            w(f"| {backend}: {name} ≥ 0.3 × baseline | {r:.3f} × | {'yes' if r >= 0.3 else 'no'} |")
    if len(scales) > 1:
        for name in cred:
            a, b = get(backend, scales[0], name), get(backend, scales[-1], name)
            if a and b and a["rps"]:
                d = b["rps"] / a["rps"]
                w(f"| {backend}: {name}, {scales[-1]:,} vs {scales[0]:,} credentials within 10% | {d:.3f} × | {'yes' if d >= 0.9 else 'no'} |")
    for name, peer_name in [("token: client_credentials", "node-oidc-provider: token (client_credentials)"),
                            ("token: refresh_token (pool)", "node-oidc-provider: token (client_credentials)"),
                            ("token: authorization_code (pool)", "node-oidc-provider: token (client_credentials)"),
                            ("introspection", "node-oidc-provider: introspection")]:
        m = get(backend, scales[-1], name)
        p = near_peer.get((peer_name, backend, scales[-1], top)) or peer.get((peer_name, top))
        if m and p:
            r = m["rps"] / p
            w(f"| {backend}: {name} ≥ 5 × node-oidc-provider | {r:.2f} × | {'yes' if r >= 5 else 'no'} |")
    for name in ["log-in form (Argon2id)", "token: password grant (Argon2id)"]:
        m = get(backend, scales[-1], name)
        bare = (m or {}).get("bare_argon2") or argon2
        if m and bare:
            r = m["rps"] / bare
            w(f"| {backend}: {name} ≥ 0.9 × bare Argon2id | {r:.2f} × | {'yes' if r >= 0.9 else 'no'} |")
    if backend == "sqlite":
        worst = max((m["rss_kb"], l[2]) for l, c, m in rows
                    if l[0] == "sqlite" and "Argon2id" not in l[2])
        w(f"| sqlite: peak RSS < 64 MiB (all but log-in) | {mib(worst[0]):.1f} MiB ({worst[1]}) | {'yes' if worst[0] < 65536 else 'no'} |")
bad = [(l, c, m) for l, c, m in rows if l[0] not in ("baseline",) and (m["non2xx"] or m["errors"])]
w(f"| no errors and no non-2xx where success is expected | {len(bad)} case(s) with some | {'yes' if not bad else 'no'} |")
print("\n".join(out))
