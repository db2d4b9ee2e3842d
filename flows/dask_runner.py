"""The Dask task runner of `jixiao run --dask` (flows.partitions says what runs on it).
Imported only when asked for: prefect-dask is the optional extra `jixiao[dask]`."""

from __future__ import annotations

import logging

from distributed import Client
from prefect.client.orchestration import get_client
from prefect_dask import DaskTaskRunner

from jixiao.ingest.intake import _cores

LOCAL = "local"  # `--dask local`: a LocalCluster of worker processes on this machine


class LocalDaskRunner(DaskTaskRunner):
    """A LocalCluster whose worker processes report to the flow's Prefect API, a temporary
    server's included: without it in their environment each worker would start a temporary
    server of its own (20 s or more), and the task runs would be recorded there."""

    def __enter__(self):
        # the cluster's own INFO lines (scheduler, nannies, workers coming and going) are
        # Dask's, not the run's: the console keeps the run's lines and Dask's warnings
        logging.getLogger("distributed").setLevel(logging.WARNING)
        with get_client(sync_client=True) as client:
            self.cluster_kwargs["env"] = {"PREFECT_API_URL": str(client.api_url).rstrip("/")}
        return super().__enter__()


class DaskUnreachable(RuntimeError):
    """No Dask scheduler answers at the address given; raised before the run starts."""


def task_runner(address: str) -> DaskTaskRunner:
    """On a LocalCluster of as many worker processes as a local run starts readers (one thread
    each: DuckDB and polars thread inside), or on the cluster at ``address``, whose workers
    must reach the Prefect API named by their own PREFECT_API_URL. A cluster that does not
    answer within 10 s is said so now, not half-way through a run."""
    if address == LOCAL:
        return LocalDaskRunner(cluster_kwargs={"n_workers": _cores(), "threads_per_worker": 1,
                                               "processes": True, "dashboard_address": ":0"})  # fmt: skip
    try:
        with Client(address, timeout=10):
            pass
    except (OSError, ValueError) as exc:  # ValueError: an address Dask cannot parse
        raise DaskUnreachable(address, str(exc)) from None
    return DaskTaskRunner(address=address)
