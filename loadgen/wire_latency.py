#!/usr/bin/env python3
"""The broker's own share of the latency workload's figures, measured on the wire.

`warren-loadgen latency` times each message from just before `basic.publish` to the
moment the consumer has it, so its figures include the client library's work on both
sides. This script runs that workload and meanwhile captures the loopback traffic with
tcpdump; each message's body starts with the load generator's 8-byte send stamp, unique
per message, so a publish's body frame on its way in can be paired with the delivery's
body frame on its way out. The time between the two packets is the broker's share
(its own work, its wake-ups, the kernel's loopback), with no client code in it.

Needs tcpdump and the right to capture (root). Usage:

    python3 loadgen/wire_latency.py --url amqp://guest:guest@127.0.0.1:5672/%2F

It prints the load generator's own result line, then the wire-to-wire percentiles.
With --split it also splits each message's end-to-end latency (from the load
generator's own send and receive times, `warren-loadgen latency --dump`) into three
parts: the client's way out (stamp to the publish on the wire), the broker (wire to
wire) and the client's way in (the delivery on the wire to the consumer having it), and
shows the p99 of the two client parts added, which is what the end-to-end p99 would be
with a broker that took no time at all. The client's times are matched to the capture's
by the wall clock read once when the run starts, so both must be the same machine's.
With --by-position it also prints them by each message's place in its burst: the
load generator publishes in bursts (its 500 µs sleep lasts one to two timer ticks),
and a publish that comes more than BURST_GAP_S after the one before starts a new burst.
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

FRAME_BODY = 3
BURST_GAP_S = 300e-6  # a longer pause between two publishes on the wire starts a burst
FRAME_END = 0xCE
# Link-layer header lengths by pcap link type: Ethernet (Linux loopback), SLL, SLL2.
LINK_HEADER = {1: 14, 113: 16, 276: 20}


def packets(path):
    """(time, src port, dst port, TCP payload) for each TCP packet of a pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit(f"{path}: not a little-endian pcap file (magic {magic:#x})")
    fraction = 1e-9 if magic == 0xA1B23C4D else 1e-6
    link = struct.unpack("<I", data[20:24])[0]
    skip = LINK_HEADER.get(link)
    if skip is None:
        sys.exit(f"{path}: link type {link} is not handled")
    at = 24
    while at + 16 <= len(data):
        sec, frac, captured, _ = struct.unpack("<IIII", data[at : at + 16])
        at += 16
        packet = data[at + skip : at + captured]
        at += captured
        if not packet:
            continue
        version = packet[0] >> 4
        if version == 4:
            ip_len, proto = (packet[0] & 15) * 4, packet[9]
        elif version == 6:
            ip_len, proto = 40, packet[6]
        else:
            continue
        if proto != 6:
            continue
        tcp = packet[ip_len:]
        if len(tcp) < 20:
            continue
        src, dst = struct.unpack(">HH", tcp[:4])
        payload = tcp[(tcp[12] >> 4) * 4 :]
        if payload:
            yield sec + frac * fraction, src, dst, payload


def starts_with_frame(payload):
    """Whether a payload starts at a frame boundary (a known type, an end octet in place)."""
    if len(payload) < 8 or payload[0] not in (1, 2, 3, 8):
        return False
    size = struct.unpack(">I", payload[3:7])[0]
    return len(payload) < 8 + size or payload[7 + size] == FRAME_END


def body_stamps(pkts):
    """{stamp: time} for the body frames of one direction of one connection.

    The stream is rebuilt from the payloads in capture order (loopback neither loses
    nor reorders); a frame counts from the packet that completes it. Parsing starts at
    the first packet that begins with a frame, as the capture starts mid-stream."""
    stamps = {}
    buffer = b""
    times = []  # (offset in buffer where a packet ends, its time)
    synced = False
    for t, payload in pkts:
        if not synced:
            if not starts_with_frame(payload):
                continue
            synced = True
        buffer += payload
        times.append((len(buffer), t))
        at = 0
        while at + 7 <= len(buffer):
            kind = buffer[at]
            size = struct.unpack(">I", buffer[at + 3 : at + 7])[0]
            end = at + 8 + size
            if end > len(buffer):
                break
            if kind == FRAME_BODY and size >= 8:
                done = next(time_ for offset, time_ in times if offset >= end)
                stamps.setdefault(buffer[at + 7 : at + 15], done)
            at = end
        buffer = buffer[at:]
        times = [(offset - at, time_) for offset, time_ in times if offset > at]
    return stamps


def percentile(sorted_values, p):
    """Nearest rank, as the load generator computes its own."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def by_position(published, delivered):
    """{place in burst (the last row takes that place and later): sorted broker latencies}."""
    rows = {}
    previous, place = None, 0
    for sent_at, stamp in sorted((t, s) for s, t in published.items() if s in delivered):
        place = 0 if previous is None or sent_at - previous > BURST_GAP_S else place + 1
        previous = sent_at
        rows.setdefault(min(place, 16), []).append(delivered[stamp] - sent_at)
    return {place: sorted(gaps) for place, gaps in rows.items()}


def split(dump_path, published, delivered):
    """Per message: (end to end, client out, broker, client in), in seconds."""
    with open(dump_path) as f:
        epoch = int(f.readline()) / 1e9
        rows = []
        for line in f:
            sent, received = (int(v) for v in line.split())
            stamp = struct.pack("<Q", sent)
            if stamp in published and stamp in delivered:
                t_sent, t_received = epoch + sent / 1e9, epoch + received / 1e9
                rows.append((t_received - t_sent, published[stamp] - t_sent,
                             delivered[stamp] - published[stamp], t_received - delivered[stamp]))
    return rows


def print_split(rows):
    if not rows:
        sys.exit("no recorded message could be found in the capture")
    print(f"split: {len(rows)} messages")
    names = ("end to end", "client out", "broker (wire)", "client in")
    for k, name in enumerate(names):
        column = sorted(r[k] for r in rows)
        print(f"  {name:14} p50 {percentile(column, 50) * 1e6:5.0f} µs, "
              f"p90 {percentile(column, 90) * 1e6:5.0f} µs, p99 {percentile(column, 99) * 1e6:5.0f} µs")
    client = sorted(r[1] + r[3] for r in rows)
    print(f"  {'client only':14} p50 {percentile(client, 50) * 1e6:5.0f} µs, "
          f"p90 {percentile(client, 90) * 1e6:5.0f} µs, p99 {percentile(client, 99) * 1e6:5.0f} µs"
          " (out + in: the end to end with a broker that took no time)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the broker, as warren-loadgen takes it")
    parser.add_argument("--loadgen", default="target/release/warren-loadgen")
    parser.add_argument("--rate", default="10000", help="messages per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds captured")
    parser.add_argument("--pacing", default="timer", choices=("even", "timer"),
                        help="the load generator's --pacing")
    parser.add_argument("--split", action="store_true",
                        help="also split the end-to-end latency into client and broker parts")
    parser.add_argument("--by-position", action="store_true",
                        help="also show the percentiles by place in the publisher's burst")
    args = parser.parse_args()
    port = urllib.parse.urlsplit(args.url).port or 5672

    warmup = 2.0
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "wire.pcap")
        dump = os.path.join(tmp, "times.txt")
        command = [args.loadgen, "--url", args.url, "latency", "--rate", args.rate,
                   "--pacing", args.pacing, "--warmup", str(warmup),
                   "--seconds", str(args.seconds + 1)]
        if args.split:
            command += ["--dump", dump]
        loadgen = subprocess.Popen(command, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        time.sleep(warmup)
        capture = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-s", "0", "-B", "16384", "--time-stamp-precision=nano",
             "-w", pcap, f"tcp port {port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(args.seconds)
        capture.send_signal(2)
        _, report = capture.communicate()
        out, _ = loadgen.communicate()
        print(next((l for l in out.splitlines() if l.startswith("result ")), "no result line"))
        dropped = [l for l in report.splitlines() if "dropped by kernel" in l]
        if dropped and not dropped[0].startswith("0 "):
            sys.exit(f"tcpdump: {dropped[0]}: the pairs would be incomplete")
        streams = {}  # (src port, dst port) -> packets: one direction of one connection
        for t, src, dst, payload in packets(pcap):
            streams.setdefault((src, dst), []).append((t, payload))
        published, delivered = {}, {}
        for (src, dst), pkts in streams.items():
            (published if dst == port else delivered).update(body_stamps(pkts))
        rows = split(dump, published, delivered) if args.split else None
    gaps = sorted(delivered[s] - t for s, t in published.items() if s in delivered)
    if not gaps:
        sys.exit("no publish could be paired with its delivery")
    us = {p: percentile(gaps, p) * 1e6 for p in (50, 90, 99, 99.9, 100)}
    print(f"wire to wire: {len(gaps)} messages; p50 {us[50]:.0f} µs, p90 {us[90]:.0f} µs, "
          f"p99 {us[99]:.0f} µs, p99.9 {us[99.9]:.0f} µs, max {us[100]:.0f} µs")
    if rows is not None:
        print_split(rows)
    if args.by_position:
        for place, row in sorted(by_position(published, delivered).items()):
            label = f"{place}+" if place == 16 else str(place)
            print(f"  place {label:>3} in burst: {len(row):6} messages; "
                  f"p50 {percentile(row, 50) * 1e6:4.0f} µs, p90 {percentile(row, 90) * 1e6:4.0f} µs, "
                  f"p99 {percentile(row, 99) * 1e6:4.0f} µs")


if __name__ == "__main__":
    main()
