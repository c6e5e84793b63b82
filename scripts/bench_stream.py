"""Child of scripts/bench: read one GetFlows stream from a Relay and print ``{"flows": N, "seconds": S}``
(seconds from the request to the last flow: imports and channel set-up are not counted).

    raw     a bare grpcio client with an identity deserializer (bytes in, nothing parsed): the limit
    client  meshdoctor's HubbleClient.stream (parse, re-check the filters) and a streaming
            FlowTally over every flow (aggregated as it arrives: constant memory)

Usage: python scripts/bench_stream.py ADDRESS raw|client NUMBER
"""

from __future__ import annotations

import json
import sys
import time


def raw(address: str, number: int) -> tuple[int, float]:
    import grpc

    from kubectl_meshdoctor._proto import observer_pb2

    with grpc.insecure_channel(address) as channel:
        call = channel.unary_stream(
            "/observer.Observer/GetFlows",
            request_serializer=observer_pb2.GetFlowsRequest.SerializeToString,
            response_deserializer=None,  # identity: the bytes as received
        )
        count = 0
        start = time.perf_counter()
        for _ in call(observer_pb2.GetFlowsRequest(number=number), timeout=600):
            count += 1
        return count - 1, time.perf_counter() - start  # the NODE_CONNECTED event first


def client(address: str, number: int) -> tuple[int, float]:
    from kubectl_meshdoctor.diagnosis.evidence import FlowTally, PairSelector
    from kubectl_meshdoctor.sources.hubble import HubbleClient, flows_request

    hubble = HubbleClient(address, timeout=600)
    tally = FlowTally("GET", "/api/x")
    pair = PairSelector(set(), set(), set(), set())
    warnings: list[str] = []
    start = time.perf_counter()
    try:
        for flow in hubble.stream(flows_request([], last=number), warnings.append):
            tally.add(flow, pair.direction(flow))
    finally:
        hubble.close()
    return tally.flows, time.perf_counter() - start


def main(argv: list[str]) -> int:
    address, mode, number = argv[0], argv[1], int(argv[2])
    flows, seconds = raw(address, number) if mode == "raw" else client(address, number)
    print(json.dumps({"flows": flows, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
