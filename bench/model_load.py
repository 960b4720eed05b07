"""How long the trained model takes to become useful: load, first parse, steady parses.

Loads ``models/ridedesk.tar.gz`` (or ``--model``) the way ``rasa run`` does (``Agent.load``),
then parses one warm-up message and a fixed set of rider messages, and prints:
model size, load seconds, first-parse milliseconds (TensorFlow builds its graphs then),
and the median and 95th percentile of the following parses.

Usage::

    .venv/bin/python -m bench.model_load [--model PATH] [--repeat N]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MESSAGES = (
    "车锁打不开，车号862104573",
    "押金什么时候能退回来",
    "停在小区门口被收了十块调度费",
    "订单202611180031多扣了我钱",
    "转人工",
    "车坏了而且还多扣了我钱",
    "昨天骑到一半链条掉了，推着走了两公里，结果还一直在计费，你们这是什么服务",
)


async def _measure(model: Path, repeat: int) -> dict:
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    await agent.parse_message("你好")
    first_ms = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeat):
        for text in MESSAGES:
            started = time.perf_counter()
            await agent.parse_message(text)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "load_s": load_s,
        "first_ms": first_ms,
        "median_ms": statistics.median(times),
        "p95_ms": times[max(0, int(len(times) * 0.95) - 1)],
        "parses": len(times),
    }


def main(argv=None) -> int:
    """Prints the figures; exits 2 when there is no model to load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "ridedesk.tar.gz")
    parser.add_argument("--repeat", type=int, default=5, help="rounds over the fixed messages")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"no model at {args.model}: run `make train` first", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    os.chdir(ROOT)
    figures = asyncio.run(_measure(args.model.resolve(), args.repeat))
    size_mb = args.model.stat().st_size / 1e6
    print(f"model            {args.model.name}, {size_mb:.0f} MB")
    print(f"load             {figures['load_s']:.1f} s (Agent.load, as rasa run does)")
    print(f"first parse      {figures['first_ms']:.0f} ms")
    print(f"parse median     {figures['median_ms']:.1f} ms over {figures['parses']} parses")
    print(f"parse p95        {figures['p95_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
