# The Python twin of bench/harness.ts: the same timing rule and the same line protocol,
# shared by the NumPy and TensorFlow peers. Keep the constants in step with harness.ts.
#
# Timing rule: one call decides the plan. A call slower than SLOW_CALL_S is timed once
# more and that is the only sample. Otherwise calls run as warm-up for WARMUP_S and at
# least WARMUP_CALLS calls (those stop at WARMUP_MAX_S), then samples of `batch` calls
# each (about SAMPLE_S a sample), 5 to 15 of them within the budget. A sample is seconds
# per call divided by `inner`.
import json
import math
import sys
import time
import traceback

WARMUP_S = 0.3
WARMUP_CALLS = 40
WARMUP_MAX_S = 5.0
SAMPLE_S = 0.05
SLOW_CALL_S = 3.0
MIN_SAMPLES = 5
MAX_SAMPLES = 15
MARK = "@@bench "


def _seconds(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def stats_of(samples, batch=1):
    s = sorted(samples)

    def at(q):
        pos = (len(s) - 1) * q
        lo, hi = math.floor(pos), math.ceil(pos)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    return {
        "median": at(0.5),
        "q1": at(0.25),
        "q3": at(0.75),
        "min": s[0],
        "max": s[-1],
        "samples": len(s),
        "batch": batch,
        "values": s,
    }


def measure(fn, budget=1.0, inner=1):
    """Times fn by the rule above; returns stats in seconds per operation."""
    first = _seconds(fn, 1)
    if first > SLOW_CALL_S:
        return stats_of([_seconds(fn, 1) / inner])
    calls, spent = 1, first
    while calls < 3 or spent < WARMUP_S or (calls < WARMUP_CALLS and spent < WARMUP_MAX_S):
        by_time = math.ceil((WARMUP_S - spent) / max(spent / calls, 1e-9))
        n = max(1, min(calls, max(by_time, WARMUP_CALLS - calls)))
        spent += _seconds(fn, n)
        calls += n
    per = max(spent / calls, 1e-9)
    batch = max(1, round(SAMPLE_S / per))
    count = min(MAX_SAMPLES, max(MIN_SAMPLES, math.floor(budget / (batch * per))))
    samples = [_seconds(fn, batch) / batch / inner for _ in range(count)]
    return stats_of(samples, batch)


def result(column, stats=None, skipped=None, note=None):
    out = {"column": column}
    if stats is not None:
        out["stats"] = stats
    if skipped is not None:
        out["skipped"] = skipped
    if note is not None:
        out["note"] = note
    return out


def _say(value):
    sys.stdout.write(MARK + json.dumps(value) + "\n")
    sys.stdout.flush()


def serve(column, versions, kinds):
    """Answers each case line on stdin with kinds[kind](params, budget) -> [result]."""
    _say({"ready": True, "versions": versions})
    for line in sys.stdin:
        if not line.strip():
            continue
        spec = json.loads(line)
        handler = kinds.get(spec["kind"])
        try:
            if handler is None:
                results = [result(column, skipped="not applicable")]
            else:
                results = handler(spec["params"], spec["budget"])
        except Exception as error:  # reported in the table, the run goes on
            traceback.print_exc()
            results = [{"column": column, "error": f"{type(error).__name__}: {error}"}]
        _say({"results": results})
