# The Python twin of bench/harness.ts: the same timing rule and the same line protocol,
# shared by the NumPy and TensorFlow peers. Keep the constants in step with harness.ts.
#
# Timing rule: a case is measured in rounds, and a peer keeps the case's inputs (what its
# setup made) from the first round to the last. One call decides the plan. A call slower
# than SLOW_CALL_S is timed once more and that is the round's only sample. Otherwise, in
# the first round, calls run as warm-up for WARMUP_S and at least WARMUP_CALLS calls
# (those stop at WARMUP_MAX_S); in later rounds for REWARM_S, the first call included.
# Then samples of `batch` calls each (about SAMPLE_S a sample), as many as the round's
# budget holds, at least MIN_ROUND_SAMPLES, and MIN_SAMPLES to MAX_SAMPLES over all
# rounds. A sample is seconds per call divided by `inner`.
import json
import math
import sys
import time
import traceback

WARMUP_S = 0.3
REWARM_S = 0.02
WARMUP_CALLS = 40
WARMUP_MAX_S = 5.0
SAMPLE_S = 0.05
SLOW_CALL_S = 3.0
MIN_SAMPLES = 12
MAX_SAMPLES = 18
MIN_ROUND_SAMPLES = 2
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


class Timed:
    """What a case's setup returns: a function to time, and the column it fills."""

    def __init__(self, fn, column=None, inner=1, note=None):
        self.fn, self.column, self.inner, self.note = fn, column, inner, note


def measure(fn, budget=1.0, inner=1, round_=0, rounds=1):
    """Times fn by the rule above as round round_ of rounds; stats in seconds per operation."""
    first = _seconds(fn, 1)
    if first > SLOW_CALL_S:
        return stats_of([_seconds(fn, 1) / inner])
    warm_s, warm_calls, fewest = (WARMUP_S, WARMUP_CALLS, 3) if round_ == 0 else (REWARM_S, 1, 1)
    calls, spent = 1, first
    while calls < fewest or spent < warm_s or (calls < warm_calls and spent < WARMUP_MAX_S):
        by_time = math.ceil((warm_s - spent) / max(spent / calls, 1e-9))
        n = max(1, min(calls, max(by_time, warm_calls - calls)))
        spent += _seconds(fn, n)
        calls += n
    per = max(spent / calls, 1e-9)
    batch = max(1, round(SAMPLE_S / per))
    least = max(MIN_ROUND_SAMPLES, math.ceil(MIN_SAMPLES / rounds))
    most = max(least, math.ceil(MAX_SAMPLES / rounds))
    count = min(most, max(least, math.floor(budget / (batch * per))))
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


def serve(column, versions, setups):
    """Answers each case line on stdin. setups[kind](params) -> [Timed] runs in a case's
    first round; later rounds of the same case time what it returned."""
    _say({"ready": True, "versions": versions})
    case_id, timed = None, None
    for line in sys.stdin:
        if not line.strip():
            continue
        spec = json.loads(line)
        setup = setups.get(spec["kind"])
        try:
            if setup is None:
                results = [result(column, skipped="not applicable")]
            else:
                if spec["id"] != case_id or spec["round"] == 0:
                    case_id, timed = None, None  # the last case's inputs go before the next's
                    timed = setup(spec["params"])
                    case_id = spec["id"]
                results = [
                    result(t.column or column,
                           measure(t.fn, spec["budget"], t.inner, spec["round"], spec["rounds"]),
                           note=t.note)
                    for t in timed
                ]
        except Exception as error:  # reported in the table, the run goes on
            traceback.print_exc()
            case_id, timed = None, None
            results = [{"column": column, "error": f"{type(error).__name__}: {error}"}]
        _say({"results": results})
