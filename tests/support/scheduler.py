"""An in-process fake of the Cloud Scheduler gRPC service (get, create, update and list jobs), built from
the library's own request and response types, and the real client on an insecure channel to it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
from google.cloud import scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler.transports import CloudSchedulerGrpcTransport
from google.protobuf import empty_pb2

SERVICE = "google.cloud.scheduler.v1.CloudScheduler"
SERVICE_HEADERS = {"User-Agent": "Google-Cloud-Scheduler"}  # what the real service adds to a job's target


def _copy(job: scheduler_v1.Job) -> scheduler_v1.Job:
    return scheduler_v1.Job.deserialize(scheduler_v1.Job.serialize(job))


class FakeCloudScheduler:
    """Jobs by name, in memory, with the calls it served; it refuses what the real service refuses."""

    def __init__(self) -> None:
        self.jobs: dict[str, scheduler_v1.Job] = {}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def get_job(self, request: scheduler_v1.GetJobRequest, context: grpc.ServicerContext) -> scheduler_v1.Job:
        with self._lock:
            self.calls.append("GetJob")
            if request.name not in self.jobs:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Job not found: {request.name}")
            return _copy(self.jobs[request.name])

    def create_job(
        self, request: scheduler_v1.CreateJobRequest, context: grpc.ServicerContext
    ) -> scheduler_v1.Job:
        with self._lock:
            self.calls.append("CreateJob")
            job = _copy(request.job)
            if not job.name.startswith(request.parent + "/jobs/"):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the job's name is not under its parent")
            if job.name in self.jobs:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"Job {job.name} already exists")
            self._as_stored(job)
            self.jobs[job.name] = job
            return job

    def update_job(
        self, request: scheduler_v1.UpdateJobRequest, context: grpc.ServicerContext
    ) -> scheduler_v1.Job:
        with self._lock:
            self.calls.append("UpdateJob:" + ",".join(request.update_mask.paths))
            stored = self.jobs.get(request.job.name)
            if stored is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Job not found: {request.job.name}")
            for path in request.update_mask.paths:
                if path not in scheduler_v1.Job.meta.fields:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown field {path}")
                setattr(stored, path, getattr(request.job, path))
            self._as_stored(stored)
            return stored

    def list_jobs(
        self, request: scheduler_v1.ListJobsRequest, context: grpc.ServicerContext
    ) -> scheduler_v1.ListJobsResponse:
        with self._lock:
            self.calls.append("ListJobs")
            prefix = request.parent + "/jobs/"
            return scheduler_v1.ListJobsResponse(
                jobs=[j for n, j in sorted(self.jobs.items()) if n.startswith(prefix)]
            )

    def delete_job(self, request: scheduler_v1.DeleteJobRequest, context: grpc.ServicerContext) -> Any:
        with self._lock:
            self.calls.append("DeleteJob")
            self.jobs.pop(request.name, None)
            return empty_pb2.Empty()

    @staticmethod
    def _as_stored(job: scheduler_v1.Job) -> None:
        job.state = scheduler_v1.Job.State.ENABLED
        if "http_target" in job:
            for name, value in SERVICE_HEADERS.items():
                job.http_target.headers[name] = value

    def handler(self) -> grpc.GenericRpcHandler:
        def unary(method: Callable[..., Any], request: Any, response: Any) -> grpc.RpcMethodHandler:
            return grpc.unary_unary_rpc_method_handler(
                method, request_deserializer=request.deserialize, response_serializer=response.serialize
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "GetJob": unary(self.get_job, scheduler_v1.GetJobRequest, scheduler_v1.Job),
                "CreateJob": unary(self.create_job, scheduler_v1.CreateJobRequest, scheduler_v1.Job),
                "UpdateJob": unary(self.update_job, scheduler_v1.UpdateJobRequest, scheduler_v1.Job),
                "ListJobs": unary(
                    self.list_jobs, scheduler_v1.ListJobsRequest, scheduler_v1.ListJobsResponse
                ),
                "DeleteJob": grpc.unary_unary_rpc_method_handler(
                    self.delete_job,
                    request_deserializer=scheduler_v1.DeleteJobRequest.deserialize,
                    response_serializer=empty_pb2.Empty.SerializeToString,
                ),
            },
        )


@contextmanager
def fake_cloud_scheduler() -> Iterator[tuple[FakeCloudScheduler, scheduler_v1.CloudSchedulerClient]]:
    """The fake served on a free loopback port, and the real client on an insecure channel to it (no
    credentials are looked up: a given channel skips them)."""
    fake = FakeCloudScheduler()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((fake.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    client = scheduler_v1.CloudSchedulerClient(transport=CloudSchedulerGrpcTransport(channel=channel))
    try:
        yield fake, client
    finally:
        channel.close()
        server.stop(grace=None)
