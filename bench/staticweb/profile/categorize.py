"""Reads `perf script -F ip,sym` of a callchain profile and prints, as markdown table rows, the share of samples whose
stack's innermost frame that names one of the parts below is that part's (bench/staticweb/profile/run.sh)."""
import sys, re, collections
# perf script -F ip,sym: one indented line per frame, innermost first; a blank line between samples.
rules = [
  ("send(2)", re.compile(r"\b(__send|__sendmsg|SystemNative_Send)")),
  ("recv(2) and epoll_wait(2)", re.compile(r"\b(__libc_recv|epoll_wait|SystemNative_Receive|SystemNative_WaitForSocketEvents)")),
  ("poll(2) of the link watch", re.compile(r"\b(__poll|__GI___poll)\b")),
  ("readlink(2)", re.compile(r"\b(readlink|__readlink)")),
  ("request span", re.compile(r"(OpenTelemetry_|System_Diagnostics_DiagnosticSource|HostingApplicationDiagnostics__(Start|Stop)Activity|ActivityCreator|HexConverter|Activity__|RequestSpans)")),
  ("hosting context, log scope, request metrics", re.compile(r"(HostingMetrics|System_Diagnostics_Metrics|HostingLogScope|Microsoft_AspNetCore_Hosting|Microsoft_Extensions_Logging|DefaultHttpContext)")),
  ("StaticWeb's own code", re.compile(r"Sidecar_StaticWeb")),
  ("Kestrel and its transport", re.compile(r"(Microsoft_AspNetCore_Server_Kestrel|System_IO_Pipelines|System_Net_Sockets|Microsoft_AspNetCore_Http)")),
  ("garbage collector", re.compile(r"(gc_heap|SVR::|WKS::|GCHeap|RhpNew|RhpGcAlloc)")),
]
counts = collections.Counter(); total = 0
frames = []
def flush():
    global total
    if not frames: return
    total += 1
    for f in frames:
        for name, rx in rules:
            if rx.search(f):
                counts[name] += 1; return
    counts["other (runtime, thread pool, kernel scheduling)"] += 1
for line in sys.stdin:
    if not line.strip():
        flush(); frames = []; continue
    if line.startswith("\t") or line.startswith(" "):
        frames.append(line.strip())
    else:
        flush(); frames = []
flush()
for name, n in counts.most_common():
    print(f"| {100*n/total:.0f} % | {name} |")
print()
print(f"{total} samples")
