"""Runs graft on every file of a zoo (make_zoo.py's manifests) and prints the table
model × format → loaded / max relative difference / parameters / time.

    python check_zoo.py GRAFT ZOO [--known known_misses.txt]

A file passes when graft loads it, its output matches the framework's to 1e-4 relative (max |Δ| over
max |reference|; four times the reference's own noise floor where that is larger, see make_zoo.py), and
its parameter and statistics totals equal the framework's. Files listed in the
known-misses file (model format reason, one per line) are reported but do not fail the check; one of
them passing fails it (remove it from the list). Exit status: the number of unexpected results.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

TOLERANCE = 1e-4


def run_graft(graft, zoo, entry, work):
    # Absolute paths: a session's relative paths are its own folder's (work's), not the current one's.
    zoo, work = os.path.abspath(zoo), os.path.abspath(work)
    output = os.path.join(work, entry["file"] + ".out.npy")
    script = os.path.join(work, entry["file"] + ".graft")
    with open(script, "w") as f:
        f.write(f'load "{os.path.join(zoo, entry["file"])}" as m\n')
        f.write(f'predict "{os.path.join(zoo, entry["input"])}" save="{output}"\n')
    start = time.time()
    try:
        done = subprocess.run([graft, "run", script], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    elapsed = time.time() - start
    text = done.stdout + done.stderr
    loaded = re.search(r"loaded .*?, ([\d,]+) parameters(?: \+ ([\d,]+) BatchNorm statistics)?", text)
    result = {"seconds": elapsed}
    if not loaded:
        error = next((line for line in text.splitlines() if "error" in line), text.strip().splitlines()[-1] if text.strip() else "no output")
        result.update(status="refused", reason=error.strip()[:300])
        return result
    result["parameters"] = int(loaded.group(1).replace(",", ""))
    result["statistics"] = int((loaded.group(2) or "0").replace(",", ""))
    if done.returncode != 0 or not os.path.exists(output):
        error = next((line for line in text.splitlines() if "error" in line), "predict failed")
        result.update(status="predict failed", reason=error.strip()[:300])
        return result
    got = np.load(output)
    want = np.load(os.path.join(zoo, entry["output"]))
    if got.shape != want.shape:
        result.update(status="wrong shape", reason=f"{got.shape} against {want.shape}")
        return result
    result["difference"] = float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-12))
    problems = []
    # Never looser than 1e-4, unless the framework's own output moves more than that under rounding.
    tolerance = max(TOLERANCE, 4 * entry.get("noise", 0))
    if result["difference"] > tolerance:
        problems.append(f"outputs differ by {result['difference']:.2e} (tolerance {tolerance:.1e})")
    if entry["parameters"] is not None and result["parameters"] != entry["parameters"]:
        problems.append(f"{result['parameters']:,} parameters, framework {entry['parameters']:,}")
    if entry["statistics"] is not None and result["statistics"] != entry["statistics"]:
        problems.append(f"{result['statistics']:,} statistics, framework {entry['statistics']:,}")
    result["status"] = "ok" if not problems else "mismatch"
    if problems:
        result["reason"] = "; ".join(problems)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("graft")
    parser.add_argument("zoo")
    parser.add_argument("--known", help="known misses: 'framework:model format reason' per line")
    args = parser.parse_args()
    entries = []
    for name in sorted(os.listdir(args.zoo)):
        if name.startswith("manifest") and name.endswith(".json"):
            with open(os.path.join(args.zoo, name)) as f:
                entries += json.load(f)
    known = {}
    if args.known and os.path.exists(args.known):
        for line in open(args.known):
            line = line.strip()
            if line and not line.startswith("#"):
                parts = line.split(None, 2)
                known[(parts[0], parts[1])] = parts[2] if len(parts) > 2 else ""
    work = os.path.join(args.zoo, "graft")
    os.makedirs(work, exist_ok=True)
    rows, unexpected = [], 0
    for entry in entries:
        if entry.get("exporter_failed"):  # the framework could not write this file: listed, and a miss unless known
            result = {"status": "not exported", "reason": f"the exporter failed ({entry['exporter_failed']}; see make.log)"}
        else:
            result = run_graft(args.graft, args.zoo, entry, work)
        key = (f"{entry['framework']}:{entry['model']}", entry["format"])
        expected_miss = key in known
        ok = result["status"] == "ok"
        verdict = "pass" if ok and not expected_miss else ("known miss" if not ok and expected_miss else ("FIXED (remove from known misses)" if ok else "FAIL"))
        if verdict in ("FAIL", "FIXED (remove from known misses)"):
            unexpected += 1
        rows.append((key[0], entry["format"], result, entry, verdict))
        difference = f"{result['difference']:.1e}" if "difference" in result else "-"
        parameters = f"{result['parameters']:,}" if "parameters" in result else "-"
        expected = f"{entry['parameters']:,}" if entry["parameters"] is not None else "(own)"
        print(f"{key[0]:32} {entry['format']:11} {result['status']:14} {difference:>8} {parameters:>13} / {expected:>13}"
              f" {result.get('seconds', 0):6.1f} s  noise {entry.get('noise', 0):.0e}  {verdict}" + (f"  {result.get('reason', '')}" if not ok else ""), flush=True)
    passed = sum(1 for r in rows if r[2]["status"] == "ok")
    print(f"\n{passed} of {len(rows)} files load and match; {unexpected} unexpected")
    return min(unexpected, 100)


if __name__ == "__main__":
    sys.exit(main())
