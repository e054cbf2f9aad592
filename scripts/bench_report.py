#!/usr/bin/env python3
"""Prints the benchmark results of scripts/bench.sh as Markdown tables of medians and ratios.

Reads criterion's estimates (target/criterion/<group>/<bench>/new/estimates.json), the result
files of the custom benchmarks and of scripts/bench_peers.py (target/hctoken-bench/*.json), and
the sizes of the release library and its stripped copy. Uses only the standard library.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

# Targets of issue 7.
TARGET_ALLOCATING_NS = 100.0
TARGET_BUFFER_NS = 40.0
TARGET_TWO_THREAD_RATIO = 1.8


class Report:
    def __init__(self, criterion: Path, results: Path) -> None:
        self.criterion = criterion
        self.results = results
        self.lines: List[str] = []

    def median_ns(self, group: str, bench: str) -> Optional[float]:
        path = self.criterion / group / bench / "new" / "estimates.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text())["median"]["point_estimate"]

    def result(self, name: str) -> Optional[dict]:
        path = self.results / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def say(self, line: str = "") -> None:
        self.lines.append(line)

    def table(self, header: List[str], rows: List[List[str]]) -> None:
        self.say("| " + " | ".join(header) + " |")
        self.say("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.say("| " + " | ".join(row) + " |")
        self.say()


def ns(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    if value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if value >= 1e4:
        return f"{value / 1e3:.1f} µs"
    return f"{value:.1f} ns"


def verdict(value: Optional[float], limit: float, below: bool = True) -> str:
    if value is None:
        return "n/a"
    met = value < limit if below else value >= limit
    return "met" if met else "**missed**"


def ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def load_average(results: Path) -> str:
    """The 1-minute load average when scripts/bench.sh started, and now."""
    try:
        now = Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"
    start_file = results / "loadavg-start.txt"
    start = start_file.read_text().strip() if start_file.is_file() else "?"
    return f"{start} at start, {now} at end (1-minute)"


def machine() -> Dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, IndexError, ValueError):
        pass

    def command(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{model}, {os.cpu_count()} cores",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "rustc": command("rustc", "--version"),
    }


def cached_path(r: Report) -> None:
    r.say("## Cached get, one thread (1,200-byte JWT)")
    r.say()
    rows = []
    specs = [
        ("so_get_token_into", "`hct_client_get_token_into`, shared library", TARGET_BUFFER_NS),
        ("so_get_token", "`hct_client_get_token` + `hct_string_free`, shared library", TARGET_ALLOCATING_NS),
        ("c_abi_get_token_into", "`hct_client_get_token_into`, linked in", TARGET_BUFFER_NS),
        ("c_abi_get_token", "`hct_client_get_token` + `hct_string_free`, linked in", TARGET_ALLOCATING_NS),
        ("rust_with_token_copy", "Rust `Client::with_token` (copy into a buffer)", None),
        ("rust_token", "Rust `Client::token()` (an owned `AccessToken`)", None),
    ]
    for bench, label, target in specs:
        value = r.median_ns("cached_get", bench)
        rows.append(
            [label, ns(value), f"< {target:.0f} ns" if target else "", verdict(value, target) if target else ""]
        )
    r.table(["call", "median", "target", ""], rows)
    floor = [
        ("copy_1200_bytes", "copy 1,200 bytes + NUL"),
        ("arc_swap_load", "`ArcSwapOption` load"),
        ("clock_boottime", "`clock_gettime(CLOCK_BOOTTIME)`"),
        ("clock_monotonic", "`clock_gettime(CLOCK_MONOTONIC)`"),
        ("clock_monotonic_coarse", "`clock_gettime(CLOCK_MONOTONIC_COARSE)`"),
        ("cstring_1200_bytes", "`CString::new` of 1,200 bytes (allocate, copy, NUL scan) + free"),
        ("malloc_free_1000_bytes", "malloc + free, 1,000 bytes"),
        ("malloc_free_1201_bytes", "malloc + free, 1,201 bytes"),
        ("cstring_round_trip_1200_bytes", "what get_token + string_free do to the bytes (wipe via `Vec` zeroize)"),
        ("cstring_round_trip_1200_bytes_slice_wipe", "the same, wiping the bytes as a slice (one memset)"),
    ]
    r.say("The parts the cached path is made of, measured alone (the floor):")
    r.say()
    r.table(["operation", "median"], [[label, ns(r.median_ns("floor", bench))] for bench, label in floor])


def contention(r: Report) -> None:
    r.say("## Contention: N threads on one client, cached path")
    r.say()
    r.say("Time per round (one get on each of the N threads), total throughput, and throughput")
    r.say(f"relative to one thread (target for 2 threads: at least {TARGET_TWO_THREAD_RATIO}x).")
    r.say()
    for group, label, threads in [
        ("contention_get_token_into", "`hct_client_get_token_into`", [1, 2, 4, 8]),
        ("contention_get_token", "`hct_client_get_token` + `hct_string_free`", [1, 2, 4, 8]),
        ("contention_copy_baseline", "baseline: the bare 1,200-byte copy, nothing shared (the machine's ceiling)", [1, 2]),
        ("contention_rwlock_baseline", "baseline: `std::sync::RwLock<String>` read + copy", [1, 2]),
    ]:
        base = r.median_ns(group, "1")
        rows = []
        for n in threads:
            value = r.median_ns(group, str(n))
            throughput = None if value is None else n / value * 1e3  # millions per second
            speedup = None if value is None or base is None else (n / value) / (1 / base)
            row = [str(n), ns(value), "n/a" if throughput is None else f"{throughput:.1f} M/s"]
            row.append("n/a" if speedup is None else f"{speedup:.2f}x")
            if n == 2 and "baseline" not in group:
                row.append(verdict(speedup, TARGET_TWO_THREAD_RATIO, below=False))
            else:
                row.append("")
            rows.append(row)
        r.say(f"{label}:")
        r.say()
        r.table(["threads", "median per round", "throughput", "vs 1 thread", ""], rows)


def contention_pairs(r: Report) -> None:
    data = r.result("contention_pairs")
    if data is None:
        return
    lib, copy = data["get_token_into"], data["copy"]
    r.say(
        f"Measured in {data['pairs']} alternating pairs of 1-thread and 2-thread runs (so that other load on the "
        "machine weighs on both sides of each ratio alike), the 2-thread / 1-thread throughput ratio:"
    )
    r.say()
    r.table(
        ["", "median", "min", "max", ""],
        [
            [
                "`hct_client_get_token_into`",
                f"{lib['median']:.2f}x",
                f"{lib['min']:.2f}x",
                f"{lib['max']:.2f}x",
                verdict(lib["median"], TARGET_TWO_THREAD_RATIO, below=False),
            ],
            ["bare copy (the machine's ceiling)", f"{copy['median']:.2f}x", f"{copy['min']:.2f}x", f"{copy['max']:.2f}x", ""],
        ],
    )


def stampede(r: Report) -> None:
    data = r.result("stampede")
    r.say("## Cold-cache stampede")
    r.say()
    if data is None:
        r.say("(no result: run the stampede benchmark)")
        r.say()
        return
    limit = 2 * data["latency_ms"]
    r.say(
        f"{data['callers']} threads call `hct_client_get_token_into` at once on a new client (empty cache); "
        f"`hctoken serve --latency-ms {data['latency_ms']}`. Latency of each caller from its release; "
        f"limit {limit} ms (2 x server latency)."
    )
    r.say()
    rows = [
        [
            str(round_["round"]),
            str(round_["requests"]),
            f"{round_['p50_ms']:.1f} ms",
            f"{round_['p99_ms']:.1f} ms",
            f"{round_['max_ms']:.1f} ms",
            f"{round_['max_ms'] / data['latency_ms']:.2f}x",
            verdict(round_["max_ms"], limit),
        ]
        for round_ in data["rounds"]
    ]
    r.table(["round", "token requests", "p50", "p99", "max", "max / latency", ""], rows)


def refresh_window(r: Report) -> None:
    data = r.result("refresh_window")
    r.say("## Refresh window")
    r.say()
    if data is None:
        r.say("(no result: run the refresh_window benchmark)")
        r.say()
        return
    r.say(
        f"{data['readers']} reader threads call `Client::with_token` (copy into a buffer) while the token is fresh, "
        f"then while one other caller refreshes it against a server that takes {data['server_latency_ms']} ms "
        f"(the refresher waited {data['refresher_ms']:.0f} ms). Every call timed alone, so each figure "
        "includes one clock read of the timing."
    )
    r.say()
    fresh, refreshing = data["fresh"], data["refreshing"]
    rows = []
    for key, label in [("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9"), ("max_ns", "max")]:
        rows.append([label, ns(fresh[key]), ns(refreshing[key]), ratio(refreshing[key], fresh[key])])
    rows.append(["calls", str(fresh["calls"]), str(refreshing["calls"]), ""])
    r.table(["per call", "token fresh", "during the refresh", "ratio"], rows)


def fetch_and_peers(r: Report) -> None:
    r.say("## Fetch cost (local keep-alive server, no latency)")
    r.say()
    inter = (r.result("fetch_interleaved") or {}).get("median_ns", {})
    r.say(
        "Median time per fetch. \"interleaved\": one fetch of each kind in turn, round after round "
        f"({(r.result('fetch_interleaved') or {}).get('rounds', '?')} rounds), so that drift on the machine falls on "
        "every kind alike; the ratios come from these. \"criterion\": each kind measured on its own."
    )
    r.say()
    base = inter.get("hctoken_rust")
    rows = []
    for bench, label in [
        ("hctoken_rust", "hctoken, Rust (`invalidate` + `with_token`)"),
        ("hctoken_so", "hctoken, shared library (`hct_client_invalidate` + `hct_client_get_token_into`)"),
        ("ureq_post", "plain ureq POST, same HTTP stack (body read, not parsed)"),
        ("ureq_post_and_json_parse", "plain ureq POST + `serde_json` parse"),
        ("oauth2_crate", "Rust `oauth2` crate, client credentials, over the same ureq agent"),
        ("hctoken_new_client_first_token", "hctoken, new client + first token (new connection)"),
    ]:
        value = inter.get(bench)
        if value is None:
            # Not interleaved (it makes a new connection each time): a ratio of criterion medians.
            versus = ratio(r.median_ns("fetch", bench), r.median_ns("fetch", "hctoken_rust"))
        else:
            versus = ratio(value, base)
        rows.append([label, ns(value), versus, ns(r.median_ns("fetch", bench))])
    r.table(["fetch", "interleaved", "vs hctoken (Rust)", "criterion"], rows)

    peers = r.result("peers")
    r.say("## Peers from Python (same server, same run)")
    r.say()
    if peers is None:
        r.say("(no result: scripts/bench.sh runs scripts/bench_peers.py from the fetch_cost benchmark)")
        r.say()
        return
    hct = peers["hctoken"]
    rows = [
        ["hctoken (Python binding)", ns(hct["fetch_ns"]), "1.00x", ns(hct["cached_ns"]), "1.00x"],
        [
            f"authlib {peers['versions'].get('authlib', '')}",
            ns(peers["authlib"]["fetch_ns"]),
            ratio(peers["authlib"]["fetch_ns"], hct["fetch_ns"]),
            ns(peers["authlib"]["cached_ns"]),
            ratio(peers["authlib"]["cached_ns"], hct["cached_ns"]),
        ],
        [
            f"requests-oauthlib {peers['versions'].get('requests-oauthlib', '')}",
            ns(peers["requests_oauthlib"]["fetch_ns"]),
            ratio(peers["requests_oauthlib"]["fetch_ns"], hct["fetch_ns"]),
            "(no expiry logic)",
            "",
        ],
    ]
    r.table(["library", "fetch", "vs hctoken", "cached token", "vs hctoken"], rows)
    r.say(
        f"Python {peers['versions'].get('python', '')}, requests {peers['versions'].get('requests', '')}; "
        f"hctoken loaded from {Path(peers.get('hctoken_library', '')).name}. Rust peer: "
        f"the `oauth2` crate fetch is {ratio(inter.get('oauth2_crate'), base)} hctoken's (table above)."
    )
    r.say()


def memory(r: Report, library: Path, stripped: Path) -> None:
    r.say("## Memory and size")
    r.say()
    data = r.result("memory")
    if data is not None:
        rss = data["rss_kib"]
        per = data["per_client_kib"]
        n = data["clients"]
        r.table(
            ["process state", "VmRSS", "per client"],
            [
                ["at start", f"{rss['start'] / 1024:.1f} MiB", ""],
                ["one client, token fetched (one-time set-up done)", f"{rss['one_client'] / 1024:.1f} MiB", ""],
                [f"{n} clients created", f"{rss['created'] / 1024:.1f} MiB", f"{per['created']:.1f} KiB"],
                [
                    f"{n} clients, each holding a token and a kept-alive connection",
                    f"{rss['fetched'] / 1024:.1f} MiB",
                    f"{per['fetched']:.1f} KiB",
                ],
                ["all freed", f"{rss['freed'] / 1024:.1f} MiB", ""],
            ],
        )
    rows = []
    for path, label in [(library, "release cdylib"), (stripped, "release cdylib, stripped")]:
        if path.is_file():
            rows.append([label, f"{path.stat().st_size / 1024 / 1024:.2f} MiB ({path.stat().st_size} bytes)"])
    if rows:
        r.table(["file", "size"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criterion", type=Path, default=Path("target/criterion"))
    parser.add_argument("--results", type=Path, default=Path("target/hctoken-bench"))
    parser.add_argument("--library", type=Path, default=Path("target/release/libhctoken.so"))
    parser.add_argument("--stripped", type=Path, default=Path("target/hctoken-bench/libhctoken.stripped.so"))
    args = parser.parse_args()

    r = Report(args.criterion, args.results)
    r.say("# hctoken benchmark report")
    r.say()
    facts = machine()
    facts["load average"] = load_average(args.results)
    facts["command"] = "`scripts/bench.sh`"
    r.table(["", ""], [[key, value] for key, value in facts.items()])
    cached_path(r)
    contention(r)
    contention_pairs(r)
    stampede(r)
    refresh_window(r)
    fetch_and_peers(r)
    memory(r, args.library, args.stripped)
    print("\n".join(r.lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
