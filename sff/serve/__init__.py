"""``sff serve``: a local function platform that runs each Function in a real process model.

Two models, as FaaS platforms run them:

- ``destroy`` (use-and-destroy): every request gets a fresh Python process that imports the
  function, invokes it once and exits, so every request pays a real cold start;
- ``resident``: a worker process per function stays warm and serves request after request;
  more start when requests arrive faster than one serves them (up to ``--max-instances``),
  and an instance idle past ``--idle-timeout`` is reclaimed, so the next request is cold.

Each invocation prints a report line (cold or warm, init, duration, billed duration, memory)
and answers with the same facts as headers; ``/_sff/stats`` and the exit summary add up
invocations, cold starts, latency percentiles, GB-seconds and an estimated cost, and
``/_sff`` draws recent invocations as a waterfall of their sources.

Nothing here is imported by ``import sff``: the command's handlers live in `sff.serve.cli`.
"""
