"""The table and ratios of benches/run.sh, from its results file.

    python3 benches/report.py RESULTS.tsv IMAGE_BYTES ROUNDS "machine note"

RESULTS.tsv has one line per timed run: round, group, name, wall seconds,
user and system CPU seconds, peak RSS in KiB, identical (yes/no). Throughput
and CPU use are per GB of image (10^9 bytes). Ratios compare medians and
are ours divided by the peer's: above 1 is faster for throughput, below 1 is
cheaper for CPU per GB.
"""

import csv
import statistics
import sys

GROUPS = [
    ("glance", "from Glance 33 (uWSGI, the lab launcher)"),
    ("nginx", "from nginx (Glance's two read paths as static files)"),
    ("local", "local file store (the same file Glance serves)"),
    ("upload", "upload to Glance"),
    ("inspect", "deep format inspection (from nginx, raw image: every buffer inspected)"),
    ("cache", "host image cache (the image already cached) vs a plain download from Glance"),
    ("signed", "signed image from Glance (RSA-PSS; checksum sha512), signature verified or not"),
]

OURS_TOOL = "ours: glance image-download"
OURS_LIB = "ours: library (examples/download)"


def load(path):
    runs = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["group"], row["name"])
            runs.setdefault(key, []).append(row)
    return runs


def stats(rows, size):
    walls = [float(r["wall"]) for r in rows]
    cpus = [float(r["user"]) + float(r["sys"]) for r in rows]
    gb = size / 1e9
    med = statistics.median(walls)
    return {
        "n": len(rows),
        "min": min(walls),
        "median": med,
        "gbps": gb / med if med > 0 else float("inf"),
        "best_gbps": gb / min(walls) if min(walls) > 0 else float("inf"),
        "cpu_per_gb": statistics.median(cpus) / gb,
        "rss_mib": max(int(r["rss_kib"]) for r in rows) / 1024,
        "identical": all(r["identical"] == "yes" for r in rows),
    }


def main():
    path, size, rounds, note = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    runs = load(path)
    table = {key: stats(rows, size) for key, rows in runs.items()}

    print()
    print(f"glance-client benchmark: image {size / 2**20:.0f} MiB, {rounds} rounds interleaved")
    print(f"({note})")
    print()
    head = f"{'':44} {'min s':>7} {'med s':>7} {'GB/s':>6} {'CPU s/GB':>9} {'RSS MiB':>8}  same"
    print(head)
    for group, title in GROUPS:
        rows = [(name, s) for (g, name), s in table.items() if g == group]
        if not rows:
            continue
        print(title)
        for name, s in rows:
            print(
                f"  {name:42} {s['min']:7.2f} {s['median']:7.2f} {s['gbps']:6.2f}"
                f" {s['cpu_per_gb']:9.2f} {s['rss_mib']:8.1f}  {'yes' if s['identical'] else 'NO'}"
            )
    print("(GB/s from the median wall time; CPU = user + system of the program and its children)")

    def get(group, name):
        return table.get((group, name))

    lines = []

    def ratio(label, ours, peer, key="gbps", at_least=None, at_most=None):
        """ours / peer for `key`, with the target it must meet, if any."""
        if not ours or not peer or peer[key] == 0:
            return
        r = ours[key] / peer[key]
        want, verdict = "", ""
        if at_least is not None:
            want, verdict = f">= {at_least:g}x", "met" if r >= at_least else "NOT met"
        if at_most is not None:
            want, verdict = f"<= {at_most:g}x", "met" if r <= at_most else "NOT met"
        lines.append((label, f"{r:.2f}x", want, verdict))

    ours = get("glance", OURS_TOOL)
    ours_lib = get("glance", OURS_LIB)
    gc = get("glance", "python-glanceclient image-download")
    sdk = get("glance", "openstacksdk download_image (stream)")
    curl = get("glance", "curl -o (unverified)")
    ratio("Glance: tool throughput / glanceclient", ours, gc, at_least=1.5)
    ratio("Glance: library throughput / glanceclient", ours_lib, gc, at_least=1.5)
    ratio("Glance: tool CPU per GB / glanceclient", ours, gc, key="cpu_per_gb", at_most=0.5)
    ratio("Glance: library CPU per GB / glanceclient", ours_lib, gc, key="cpu_per_gb", at_most=0.5)
    ratio("Glance: tool throughput / openstacksdk", ours, sdk)
    ratio("Glance: tool CPU per GB / openstacksdk", ours, sdk, key="cpu_per_gb")
    ratio("Glance: tool throughput / curl -o (unverified)", ours, curl)

    pipe = get("nginx", "curl | tee | sha512sum")
    ratio("nginx: tool throughput / curl|tee|sha512sum", get("nginx", OURS_TOOL), pipe, at_least=0.9)
    ratio("nginx: library throughput / curl|tee|sha512sum", get("nginx", OURS_LIB), pipe, at_least=0.9)
    ratio("nginx: tool CPU per GB / curl|tee|sha512sum", get("nginx", OURS_TOOL), pipe, key="cpu_per_gb")

    local = get("local", "ours: glance image-download (local)")
    ratio("local: tool throughput / sha512sum", local, get("local", "sha512sum of the store file"), at_least=0.9)
    ratio("local: library throughput / sha512sum", get("local", "ours: library (local)"),
          get("local", "sha512sum of the store file"), at_least=0.9)
    ratio("local: tool throughput / our HTTP download from Glance", local, ours, at_least=1.3)
    ratio("local: tool throughput / cp (unverified)", local, get("local", "cp (unverified)"))

    up = get("upload", "ours: glance image-create --file")
    gcup = get("upload", "python-glanceclient image-create --file")
    ratio("upload: tool throughput / glanceclient", up, gcup)
    ratio("upload: tool CPU per GB / glanceclient", up, gcup, key="cpu_per_gb")

    ratio("inspect: library throughput inspected / not inspected",
          get("inspect", "ours: library, inspected"), get("inspect", "ours: library, not inspected"),
          at_least=0.97)
    # Wall time, not throughput: a hit moves no data, and takes less than
    # /usr/bin/time's 10 ms resolution.
    ratio("cache: wall time of host-cache-fetch (hit) / download",
          get("cache", "ours: host-cache-fetch (hit)"), get("cache", OURS_TOOL),
          key="median", at_most=0.05)
    ratio("cache: wall time of --cache-dir (hit) / download",
          get("cache", "ours: image-download --cache-dir (hit)"), get("cache", OURS_TOOL),
          key="median", at_most=0.05)

    plain = get("signed", "ours: signature not verified")
    ratio("signed: throughput verified SHA-256 / unverified",
          get("signed", "ours: verified over SHA-256 (+1 stream)"), plain)
    ratio("signed: throughput verified SHA-512 / unverified",
          get("signed", "ours: verified over SHA-512 (same stream)"), plain,
          at_least=0.95)

    if lines:
        print()
        print(f"{'ratio (medians)':56} {'measured':>9} {'target':>9}")
        for label, shown, want, verdict in lines:
            print(f"  {label:54} {shown:>9} {want:>9}  {verdict}")

    our_rss = [s["rss_mib"] for (g, name), s in table.items() if name.startswith("ours")]
    if our_rss:
        peak = max(our_rss)
        print(f"  {'peak RSS of our programs, any case':54} {peak:6.1f} MiB {'<= 8 MiB':>9}  "
              f"{'met' if peak <= 8 else 'NOT met'}")
    bad = [f"{g}/{name}" for (g, name), s in table.items() if not s["identical"]]
    print()
    print("every result byte-identical to the image" if not bad else "NOT identical: " + ", ".join(bad))


if __name__ == "__main__":
    main()
