"""Run a tiny two-process (gloo) training many times and count clean exits.

A process that aborts after its run has finished (for instance with
``terminate called without an active exception``) makes
``torch.distributed.run`` report the whole run as failed; such an abort
depends on thread timing, so one passing run proves little. This script
trains the tiny catalog of the test helpers with mmpretrain's stock
``train.py`` under ``torch.distributed.run --nproc_per_node=2``, ``--runs``
times (``--parallel`` at once, which also loads the machine), and prints
each exit code and the count of runs that failed or printed ``terminate
called``. Exits 1 if any did.

    python .dev_scripts/repeat_two_process_runs.py --runs 20 --parallel 2
"""

import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.helpers.processes import MIM_TOOLS, tool_env, torchrun  # noqa: E402
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config  # noqa: E402


def one_run(i, folder):
    """Exit code and whether stderr shows an abort, for run ``i``."""
    root = make_tiny_catalog(osp.join(folder, str(i)), n=8)
    cfg = write_tiny_config(root, osp.join(root, 'work'), epochs=2, batch=2)
    cmd = torchrun(osp.join(MIM_TOOLS, 'train.py'), cfg)
    proc = subprocess.run(
        cmd, cwd=root, env=tool_env(), capture_output=True, text=True
    )
    return proc.returncode, 'terminate called' in proc.stderr


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--runs', type=int, default=10)
    p.add_argument('--parallel', type=int, default=1)
    args = p.parse_args(argv)
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        with ThreadPoolExecutor(args.parallel) as ex:
            futures = [ex.submit(one_run, i, folder) for i in range(args.runs)]
            for i, f in enumerate(futures):
                rc, aborted = f.result()
                bad = rc != 0 or aborted
                failed += bad
                print(
                    f'run {i + 1}/{args.runs}: exit {rc}'
                    + (' (terminate called)' if aborted else ''),
                    flush=True,
                )
    print(f'{failed} of {args.runs} runs failed (cpus={os.cpu_count()})')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
