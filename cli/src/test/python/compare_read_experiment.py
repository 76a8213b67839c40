"""Compares what the Python client's read_experiment returns with the Java export's iterations.csv.

Usage: compare_read_experiment.py BOOTSTRAP EXPERIMENT ITERATIONS_CSV   (PYTHONPATH=clients/python/src)

Reads the CSV as README.md says (pandas, float_precision="round_trip": every double exactly), sorts both by
runId and iteration, and compares every cell exactly (NaN equal to NaN, an empty cell equal to None). Prints
one JSON object: {"rows": n of read_experiment, "csv_rows": n of the CSV, "columns": [...],
"csv_columns": [...], "mismatches": [first 20 differing cells], "runs": distinct runIds}.
"""
import json
import math
import sys

import pandas as pd

import sgdscope


def same(a, b):
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return float(a) == float(b)


def main() -> int:
    bootstrap, experiment, csv_path = sys.argv[1:4]
    python = sgdscope.read_experiment(bootstrap, experiment).iterations
    java = pd.read_csv(csv_path, float_precision="round_trip")
    java = java.sort_values(["runId", "iteration"], kind="stable").reset_index(drop=True)
    mismatches = []
    if len(python) == len(java):
        for column in python.columns:
            if column not in java.columns:
                continue
            for i, (a, b) in enumerate(zip(python[column].tolist(), java[column].tolist())):
                if not same(a, b) and len(mismatches) < 20:
                    mismatches.append("row %d (%s, t=%s) %s: python %r, java %r"
                                      % (i, python["runId"][i], python["iteration"][i], column, a, b))
    print(json.dumps({"rows": len(python), "csv_rows": len(java), "columns": list(python.columns),
                      "csv_columns": list(java.columns), "mismatches": mismatches,
                      "runs": sorted(set(python["runId"]))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
