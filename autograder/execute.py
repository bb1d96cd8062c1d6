"""Running a submitted notebook so that one bad cell costs only what depends on it.

`ResilientExecute` is nbgrader's Execute step with these changes:

- The kernel runs under limits and in a sandbox (`autograder.sandbox`).
- A cell that kills the kernel (os._exit, a crash, a segfault) or that cannot be interrupted
  after its time is up gets an error in plain words; the kernel is restarted, the cells above
  it are run again quietly, and grading goes on with the next cell.
- The whole notebook has a time budget; cells left when it is spent are marked "not run".
- Huge outputs are cut to a size a feedback page can show.
- Hidden checks are judged outside the kernel (`autograder.judge`): the records a test
  cell wrote are taken right after it ran, and judged after the whole notebook has run.
- With COURSE_GRADING_PROFILE set, the phases are timed (`autograder.profile`).
- The kernel is killed when the notebook is done (0.1 s), not asked to exit (2.5 s with torch
  loaded): nothing is left to save by then, and the sandbox's own PID namespace ends with
  it, taking every process the notebook started.
"""
from contextlib import nullcontext
from queue import Empty
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer, default

from autograder import judge, profile
from autograder.sandbox import SandboxedKernelManager

TIMEOUT_NAME = "CellTimeoutError"


def _error(name, message):
    return new_output("error", ename=name, evalue=message,
                      traceback=[f"\x1b[0;31m{name}\x1b[0m: {message}"])


def _stuck():
    return _error("KernelStuck", "the cell ran out of time and did not stop when it was "
                  "interrupted, so the kernel was restarted; the cells above were run again.")


class ResilientExecute(Execute):
    """nbgrader's Execute that survives dead and stuck kernels (see the module docstring)."""

    notebook_timeout = Integer(
        900, help="Seconds the whole notebook may run while it is graded").tag(config=True)
    max_restarts = Integer(
        3, help="Kernel restarts allowed in one notebook before the rest is skipped"
    ).tag(config=True)
    max_output_chars = Integer(
        100_000, help="Characters of stream output kept per cell").tag(config=True)
    responsive_wait = Integer(
        10, help="Seconds a kernel gets to answer after an interrupt").tag(config=True)
    setup_timeout = Integer(
        120, help="Seconds each given cell above the first exercise (the imports, the data) "
        "may run, when that is more than Execute.timeout: on a busy machine importing torch "
        "alone can take 10 s").tag(config=True)

    @default("shutdown_kernel")
    def _shutdown_kernel_default(self):
        return "immediate"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._timer = profile.Timer() if profile.enabled() else None
        self._cell_seconds = []   # (seconds, index, first line) of each cell, when profiled
        began = monotonic()
        self._started = None
        self._restarts = 0
        self._skipped = set()  # indices of cells not to replay: they killed or hung the kernel
        self._records = {}     # cell index -> the records that cell's hidden checks wrote
        self._workdir = ((resources or {}).get("metadata", {}).get("path") or ".")
        judge.take_records(self._workdir)  # nothing handed in counts as a record
        nb, resources = super().preprocess(nb, resources, km)
        with self._phase("judge"):
            judge.judge_notebook(nb, self._records)
        if self._timer is not None:
            profile.write({"step": "execute", "notebook": self._workdir,
                           "total": monotonic() - began, **self._timer.seconds,
                           "slowest cells": sorted(self._cell_seconds, reverse=True)[:5]})
        return nb, resources

    def _phase(self, name):
        timer = getattr(self, "_timer", None)
        return timer.phase(name) if timer is not None else nullcontext()

    def _cell_phase(self, cell, cell_index):
        """The profile's name for the time a code cell takes to run: "setup cells" are the
        given cells above the first exercise (the imports, the data)."""
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta and not any(c.get("metadata", {}).get("nbgrader", {}).get("solution")
                                for c in self.nb.cells[:cell_index]):
            return "setup cells"
        if meta.get("solution"):
            return "exercise cells"
        return "test cells" if meta.get("grade") else "other cells"

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if timeout is None or cell is None:
            return timeout
        index = next((i for i, c in enumerate(self.nb.cells) if c is cell), None)
        if index is not None and self._cell_phase(cell, index) == "setup cells":
            return max(timeout, self.setup_timeout)
        return timeout

    async def async_start_new_kernel(self, **kwargs):
        with self._phase("kernel start"):
            return await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        with self._phase("kernel ready"):
            return await super().async_start_new_kernel_client()

    start_new_kernel = run_sync(async_start_new_kernel)   # nbconvert calls the blocking forms
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _take_records(self, cell_index):
        records = judge.take_records(self._workdir)
        if judge.is_test_cell(self.nb.cells[cell_index]):
            self._records[cell_index] = self._records.get(cell_index, []) + records

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        self._started = self._started or monotonic()
        if self._restarts > self.max_restarts:
            cell.outputs = [_error("NotRun", "not run: the kernel had to be restarted "
                                   f"{self.max_restarts} times in this notebook, so grading "
                                   "stopped here.")]
            return cell
        if monotonic() - self._started > self.notebook_timeout:
            cell.outputs = [_error("NotRun", f"not run: the notebook may run for "
                                   f"{self.notebook_timeout} s while it is graded, and that "
                                   "time was used up by the cells above.")]
            return cell
        began = monotonic()
        try:
            with self._phase(self._cell_phase(cell, cell_index)):
                cell = await self._execute_and_take_records(cell, cell_index, execution_count,
                                                            store_history)
        except DeadKernelError:
            cell.outputs = list(cell.get("outputs", [])) + [_error(
                "KernelDied", "the Python kernel stopped while this cell ran (it called "
                "os._exit or exit, crashed, or used more memory than grading allows). The "
                "cells below ran in a fresh kernel after the cells above were run again.")]
            await self._restart(cell_index)
            return cell
        except CellTimeoutError:  # interrupted, but the kernel never went idle
            cell.outputs = list(cell.get("outputs", [])) + [_stuck()]
            await self._restart(cell_index)
            return cell
        self._trim_outputs(cell)
        if getattr(self, "_timer", None) is not None:
            self._cell_seconds.append((monotonic() - began, cell_index,
                                       (cell.source.strip().splitlines() or [""])[0][:60]))
        timed_out = any(out.get("ename") == TIMEOUT_NAME for out in cell.outputs)
        if timed_out and not await self._responsive():
            cell.outputs.append(_stuck())
            await self._restart(cell_index)
        return cell

    async def _execute_and_take_records(self, cell, cell_index, execution_count,
                                        store_history):
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        finally:
            self._take_records(cell_index)

    execute_cell = run_sync(async_execute_cell)  # nbconvert calls the blocking form

    def _trim_outputs(self, cell):
        for out in cell.outputs:
            text = out.get("text")
            if out.get("output_type") == "stream" and len(text) > self.max_output_chars:
                out["text"] = (text[:self.max_output_chars] + f"\n... (output cut: this cell "
                               f"printed {len(text):,} characters)\n")

    async def _responsive(self):
        """True when the kernel answers a kernel_info request within `responsive_wait` s."""
        msg_id = self.kc.kernel_info()
        deadline = monotonic() + self.responsive_wait
        while monotonic() < deadline:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(
                    timeout=max(0.1, deadline - monotonic())))
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    async def _restart(self, bad_index):
        """Fresh kernel; run again every code cell above `bad_index` that did not fail badly.

        A cell that kills or hangs the kernel while it is run again is skipped from then on,
        and the kernel is restarted once more (up to `max_restarts` in all).
        """
        self._skipped.add(bad_index)
        while True:
            self._restarts += 1
            if self._restarts > self.max_restarts:
                return
            self.log.warning("Restarting the kernel after cell %d", bad_index)
            await ensure_async(self.km.restart_kernel(now=True))
            self.kc.stop_channels()
            await self.async_start_new_kernel_client()
            replayed = await self._replay(bad_index)
            judge.take_records(self._workdir)  # what the cells run again recorded is not new
            if replayed:
                return

    async def _replay(self, stop):
        """Run the code cells above `stop` quietly; False if one of them broke the kernel."""
        for index, prior in enumerate(self.nb.cells[:stop]):
            if prior.cell_type != "code" or not prior.source.strip() or index in self._skipped:
                continue
            msg_id = self.kc.execute(prior.source, store_history=False, stop_on_error=False)
            try:
                reply = await self.async_wait_for_reply(msg_id, prior)
            except DeadKernelError:
                reply, alive = None, False
            else:
                alive = reply is not None or await self._responsive()
            if not alive:
                self._skipped.add(index)
                return False
        return True
