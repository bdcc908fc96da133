#!/usr/bin/env python3
"""Prints N distinct TCP ports that are free right now, one per line.

Why not bind port 0: the kernel hands out ports from the ephemeral range, and
the same range serves every outgoing connection on the machine (Erlang's
distribution, rabbitmqctl, cargo). A listener started a few seconds later on
such a port can find it taken (CI once saw RabbitMQ fail with eaddrinuse that
way). So the ports come from below the ephemeral range, and each one is checked
free on IPv4 and on IPv6 wildcard addresses, since RabbitMQ listens on both.
"""
import random
import socket
import sys


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def bindable(port):
    families = [(socket.AF_INET, "0.0.0.0")]
    if socket.has_ipv6:
        families.append((socket.AF_INET6, "::"))
    for family, host in families:
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 on this machine: nothing can clash there
        try:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    high = min(ephemeral_low(), 32768) - 1
    low = 20000 if high > 21000 else 1024
    candidates = list(range(low, high))
    random.shuffle(candidates)
    chosen = []
    for port in candidates:
        if bindable(port):
            chosen.append(port)
            if len(chosen) == count:
                break
    if len(chosen) < count:
        sys.exit("free-ports: not enough free ports below the ephemeral range")
    print("\n".join(str(p) for p in chosen))


main()
