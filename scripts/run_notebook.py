"""Executes one notebook with nbclient and prints a JSON report on stdout.

Used by the notebook tests (test/notebooks/notebooks.test.ts), and by hand:

    python3 scripts/run_notebook.py notebooks/00-environment-and-data.ipynb build/executed/00.ipynb

The executed copy is written even when a cell fails, so that the failure can be opened in Jupyter.
tslab reports a failing cell with an empty error name; its real message is on the cell's stderr
stream, so the report carries that text.
"""

import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def stream_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == name)


def error_outputs(cell):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook")
    parser.add_argument("executed")
    parser.add_argument("--kernel", default="recsys-ts")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    started_cells = []

    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )

    def on_cell_start(cell, cell_index):
        started_cells.append(cell_index)

    client.on_cell_start = on_cell_start

    started = time.time()
    report = {"notebook": args.notebook, "executed": args.executed, "ok": True}
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        report["ok"] = False
        report["error"] = {"kind": type(error).__name__, "message": str(error)[-4000:]}
    except (RuntimeError, AssertionError) as error:
        # nbclient raises RuntimeError when the kernel dies before answering, then a bare AssertionError
        # while cleaning up; neither says why. The kernel's own message is on stderr above.
        if started_cells:
            raise
        report["ok"] = False
        report["error"] = {
            "kind": "KernelDidNotStart",
            "message": f"the kernel '{args.kernel}' did not start ({type(error).__name__}: {error}); its message, "
            "if any, is printed above. `npm run setup` in this checkout registers its kernel; "
            "`jupyter kernelspec list` shows which one Jupyter finds.",
        }
    report["seconds"] = round(time.time() - started, 3)

    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    # The failing cell is the one with an error output (scripts/tslab-kernel.cjs adds them; stock tslab
    # sends none), else the last one started.
    failed = next((i for i, c in code_cells if error_outputs(c)), None)
    if failed is None and not report["ok"] and started_cells:
        failed = started_cells[-1]
    if failed is not None:
        cell = nb.cells[failed]
        errors = error_outputs(cell)
        report["ok"] = False
        report["failedCell"] = {
            "index": failed,
            "source": cell.source,
            "ename": errors[0].get("ename", "") if errors else "",
            "evalue": errors[0].get("evalue", "") if errors else "",
            "stderr": stream_text(cell, "stderr")[-8000:],
        }
    if report["ok"] and code_cells:
        report["lastStdout"] = stream_text(code_cells[-1][1], "stdout")

    os.makedirs(os.path.dirname(os.path.abspath(args.executed)), exist_ok=True)
    tmp = args.executed + ".tmp"
    nbformat.write(nb, tmp)
    os.replace(tmp, args.executed)
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    if report.get("error", {}).get("kind") == "KernelDidNotStart":
        # nbclient's exit hook would clean up the kernel that never started and print a bare AssertionError.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
