"""The async executor: dataflow scheduling, `each` fan-out, request dedup, deadline.

Every source is a task that waits only for its own dependencies, so an invocation takes
the critical path of backend latencies and nothing more.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from sff import answer, bounded, finite, secrets, tracing
from sff._jmes_values import fresh
from sff.environment import check_backends
from sff.errors import DeadlineError, InputError, SffError, SourceError
from sff.expr import EvaluationError, truthy
from sff.fallback import Rescue, SourceCache, cache_step, rescue
from sff.freshness import parse as parse_cache_control
from sff.http import exposed
from sff.http.exposed import Seen
from sff.http.fetch import HttpFetcher
from sff.plan import Node
from sff.reads import reads_of
from sff.resilience import Deadline, budget_of
from sff.result import Meta, Result, SourceMeta
from sff.spec import CallSource, Fallback

if TYPE_CHECKING:
    from sff.cache import CacheStore, SafeStore
    from sff.function import Function
    from sff.http.client import AnyClient

GRACE_S = 0.02  # lets a source whose own timeout is the deadline fall back before we cancel it


async def invoke(
    fn: Function,
    raw_input: Any,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    request_id: str | None = None,
    client: AnyClient | None = None,
    cache: CacheStore | SafeStore | None = None,
    margin: float = 0.0,
) -> Result:
    """Run ``fn`` once. ``timeout`` is the platform's time left, when it says, of which
    ``margin`` is kept back to answer; ``cache`` a store to use instead of opening (and
    closing) the configured one."""
    request_id = request_id or uuid.uuid4().hex
    with secrets.scope(headers):
        traced = tracing.active()
        if traced is None:
            return await _invoke(fn, raw_input, headers, timeout, request_id, client, cache, margin)
        return await traced.traced(
            fn,
            headers,
            request_id,
            lent=client is not None,  # a resident instance lends its client: spans are batched
            budget=budget_of(fn.timeout, timeout, margin)[0],  # a flush never passes the deadline
            run=lambda: _invoke(fn, raw_input, headers, timeout, request_id, client, cache, margin),
        )


async def _invoke(
    fn: Function,
    raw_input: Any,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    request_id: str,
    client: AnyClient | None,
    cache: CacheStore | SafeStore | None,
    margin: float,
) -> Result:
    meta = Meta(fn.name, request_id, plan=fn.plan.describe())
    meta.personal = answer.personal(fn.plan, headers or {})
    meta.cache_control = fn.cache_control
    started = time.perf_counter()
    try:
        check_backends(fn.plan)
        # validating a large input counts against the deadline too
        deadline = Deadline.for_budget(*budget_of(fn.timeout, timeout, margin))
        valid = await bounded.checked_input(
            fn, raw_input, lambda: validate_input(fn, raw_input), deadline.remaining()
        )  # a large input is counted and validated off the loop
        context = {"input": valid}
        store = SourceCache.open(fn.plan, cache, context["input"], headers or {})
        try:
            fetcher = HttpFetcher(
                fn.plan, client, headers or {}, meta.request_id, store, reads_of(fn)
            )
            async with fetcher:
                await Invocation(fn, context, fetcher, deadline, meta, started).run()
        finally:
            if store is not None:  # pending writes finish before the instance may end
                await store.aclose(deadline.left_to_answer())
        large = bounded.large_context(fetcher.received_bytes, context["input"])
        with tracing.span("shape", **{"sff.function": fn.name}):
            data = await bounded.evaluate(
                lambda: shaped(fn, context),
                large=large,
                within=deadline.left_to_answer(),
                function=fn.name,
                stage="shape",
            )
        result = Result(data, meta)
        result.body()  # serialized here, so an answer JSON cannot carry fails as this call
    except SffError as exc:
        exc.meta = meta
        from sff import failures  # here: only a failed invocation needs it

        failures.expose(fn, exc)
        raise
    finally:
        meta.duration_ms = (time.perf_counter() - started) * 1000
    return result


def shaped(fn: Function, context: dict[str, Any]) -> Any:
    """The answer's data. The sources' JSON leaves the context once shaped: what the answer
    keeps of it is in the shaped data, and a large answer's peak memory is then the shaped
    data and its contract instances, not the sources' JSON beside them too."""
    data = fn.shape.render(context)
    for name in fn.plan.nodes:
        context.pop(name, None)
    return fn.shape.validate(data)


def validate_input(fn: Function, raw: Any) -> Any:
    """The input as JSON-ready data; a mismatch is a 400 naming the field."""
    if fn.input is None:
        return raw if raw is not None else {}
    try:
        model = fn.input.model_validate(raw if raw is not None else {})
        path = finite.where(fn.input, model)
        if path is not None:  # "nan" in a float field: no backend or answer can carry it
            raise finite.not_finite(fn.input, path, model)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(input)", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        first = problems[0]
        raise InputError(
            f"invalid input: field {first['field']!r}: {first['message']}",
            field=first["field"],
            problems=problems,
        ) from None
    return model.model_dump(mode="json")


class Invocation:
    """One run of one function's plan."""

    def __init__(
        self,
        fn: Function,
        context: dict[str, Any],
        fetcher: HttpFetcher,
        deadline: Deadline,
        meta: Meta,
        started: float,
    ) -> None:
        self.fn, self.context, self.fetcher = fn, context, fetcher
        self.deadline, self.meta, self.started = deadline, meta, started
        fetcher.started = started  # attempt spans share the invocation's clock
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.responses: dict[str, dict[str, Any]] = {}  # `meta.X.headers` of those read

    def now_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    async def run(self) -> None:
        plan = self.fn.plan
        self.context["meta"] = {}  # `meta.X`: X's outcome, for expressions that wait for X
        for name in plan.order:  # topological: every dependency's task already exists
            self.meta.sources[name] = SourceMeta(name)
            self.tasks[name] = asyncio.create_task(self.run_source(plan.nodes[name]))
        if not self.tasks:
            return
        try:
            await self.run_all()
        finally:  # the shape sees every outcome, those settled at the deadline included
            self.context["meta"] = {
                n: self.view(plan.nodes[n], s) for n, s in self.meta.sources.items()
            }

    def view(self, node: Node, src: SourceMeta) -> dict[str, Any]:
        """``meta.<source>``: the outcome (again at the end: a late fallback changes it),
        and the response when an expression reads it (built once, when it settles)."""
        view = src.view()
        if node.name in self.fn.plan.exposed:
            response = self.responses.get(node.name)
            if response is None:
                backend = getattr(node.source, "backend", None)
                response = self.responses[node.name] = exposed.view(src, backend, bool(node.each))
            view.update(response)
        return view

    async def run_all(self) -> None:
        done, pending = await asyncio.wait(
            self.tasks.values(),
            timeout=self.deadline.remaining() + GRACE_S,
            return_when=asyncio.FIRST_EXCEPTION,
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        # every failure retrieved, not only the one raised: asyncio logs the others otherwise
        failures = [task.exception() for task in done]
        for failure in failures:
            if failure is not None:
                raise failure
        if pending:
            await self.past_deadline(sorted(n for n, t in self.tasks.items() if t in pending))

    async def past_deadline(self, late: list[str]) -> None:
        """Unfinished sources were cancelled: their fallbacks stand in; unfinished required
        ones make the answer a 504, before the platform would end the instance."""
        nodes = [self.fn.plan.nodes[name] for name in late]
        outcomes = await asyncio.gather(
            *(self.late_fallback(n) for n in nodes), return_exceptions=True
        )
        required = [n.name for n, out in zip(nodes, outcomes, strict=True) if out is not None]
        if required:
            raise self.deadline_error(required)

    def deadline_error(self, unfinished: list[str]) -> DeadlineError:
        return DeadlineError(
            f"function {self.fn.name!r} ran out of time: {self.deadline.budget or 'its budget'}"
            f"; unfinished: {', '.join(unfinished)}",
            unfinished=unfinished,
        )

    async def late_fallback(self, node: Node) -> None:
        src = self.meta.sources[node.name]
        error = SourceError(node.name, "unfinished at the deadline")
        src.outcome = "cancelled"
        try:
            found = await self.rescue(node, self.context, node.source.options.fallback, error)
        except SffError:
            src.error = error.message
            raise
        self.degrade(node, src, found, error, reason="deadline")

    async def run_source(self, node: Node) -> None:
        if node.deps:
            await asyncio.gather(*(self.tasks[d] for d in node.deps))
        src = self.meta.sources[node.name]
        src.start_ms = self.now_ms()
        try:
            if node.when is not None and not truthy(node.when.search(self.context)):
                src.outcome, self.context[node.name] = "skipped", None
                return
            value = await self.fetch(node, src)
            if src.outcome == "pending":
                src.outcome = "ok"
            self.context[node.name] = value
        except InputError:  # a value from the caller that cannot be sent: no fallback hides it
            raise
        except SffError as exc:  # a failed call, or an expression that failed on this data
            self.context[node.name] = await self.fall_back(node, src, exc)
        finally:
            src.end_ms = self.now_ms()
            self.context["meta"][node.name] = self.view(node, src)

    async def fetch(self, node: Node, src: SourceMeta) -> Any:
        timeout = node.source.options.timeout
        if node.each is None:
            if node.source.options.paginate is not None:
                from sff import pages

                return await pages.follow(self, node, src, timeout)
            return await self.fetch_one(node, self.context, src, timeout)
        each = node.each
        items = await bounded.evaluate(
            lambda: each.search(self.context),
            large=bounded.large_context(self.fetcher.received_bytes, self.context["input"]),
            within=self.deadline.remaining(),
            function=self.fn.name,
            stage=f"each of {node.name}",
        )
        if items is None:
            items = []
        if not isinstance(items, list):
            raise SourceError(node.name, f"`each` gave {type(items).__name__}, expected an array")
        src.items = len(items)
        limit = node.source.options.max_items
        if len(items) > limit:  # one input must not buy unbounded work on a shared instance
            raise SourceError(
                node.name, f"`each` gave {len(items)} items, over its max_items of {limit}"
            )
        if node.source.options.batch is not None:
            from sff import batched

            return await batched.fetch(self, node, src, items, timeout)
        chain = item_chain(node)
        outcomes: list[Rescue | SffError | None] = [None] * len(items)
        values: list[Any] = [None] * len(items)
        seen = _seen(node, self.fn.plan.exposed, len(items))
        src.item_responses = seen

        async def one(index: int, item: Any) -> None:
            context = {**self.context, "item": item}
            try:
                values[index] = await self.fetch_one(
                    node, context, src, timeout, None if seen is None else seen[index]
                )
            except InputError:
                raise
            except SffError as exc:
                causes[index] = exc.message
                if seen is not None and isinstance(exc, SourceError):
                    seen[index].status = exc.upstream_status  # a 404 item reads as 404
                try:
                    outcomes[index] = found = await self.rescue(node, context, chain, exc)
                    values[index] = found.value
                except SffError as final:
                    outcomes[index] = final

        causes: dict[int, str] = {}
        await bounded.in_turn(one, items, node.source.options.concurrency)
        self.judge_items(node, src, outcomes, causes)
        return values

    def judge_items(
        self,
        node: Node,
        src: SourceMeta,
        outcomes: list[Rescue | SffError | None],
        causes: Mapping[int, str],
    ) -> None:
        """Failed items up to `tolerate` stay null (or take the item fallback); beyond
        it the source fails as a whole. Every failed item is noted: index and cause."""
        failed = [o for o in outcomes if isinstance(o, SffError)]
        tolerate = node.source.options.tolerate
        allowed = int(tolerate) if tolerate >= 1 else int(tolerate * len(outcomes))
        if len(failed) > allowed:
            first = failed[0].message
            raise SourceError(
                node.name,
                f"{len(failed)} of {len(outcomes)} items failed "
                f"(tolerated: {allowed}); first: {first}",
            )
        if not causes:
            return
        src.outcome = "degraded"
        src.failed_items = len(causes)
        src.item_errors = [
            {"index": i, "cause": causes[i], "fallback": _stood_in(outcomes[i])}
            for i in sorted(causes)
        ]
        rescued = [o for o in outcomes if isinstance(o, Rescue)]
        cached = [r for r in rescued if r.kind == "cache"]
        # A cached copy says how old; any other stand-in (a value, null) is a failed item.
        kinds = ({"cache"} if cached else set()) | (
            {"items"} if len(cached) < len(causes) else set()
        )
        src.degraded = "+".join(sorted(kinds))
        ages = [r.age_s for r in rescued if r.age_s is not None]
        if ages:
            src.cache, src.stale_s = "stale", max(ages)
        src.error = f"item {min(causes)}: {causes[min(causes)]}"

    def fetch_one(
        self,
        node: Node,
        context: Mapping[str, Any],
        src: SourceMeta,
        timeout: float | None,
        seen: Seen | None = None,
    ) -> Awaitable[Any]:
        """One call of the source: its value, once awaited. An HTTP source's is the
        fetcher's own coroutine, not one around it: one level fewer per `each` item."""
        if isinstance(node.source, CallSource):
            return self.call_one(node, context, src, timeout)
        return self.fetcher.fetch(node, context, src, self.deadline, timeout, seen)

    async def call_one(
        self, node: Node, context: Mapping[str, Any], src: SourceMeta, timeout: float | None
    ) -> Any:
        src.attempts += 1
        value, body = await self.call(node, context, timeout)
        self.remember_value(node, context, value, body)
        return value

    def remember_value(
        self, node: Node, context: Mapping[str, Any], value: Any, body: bytes | None = None
    ) -> None:
        """Keep a value the source's cache step stands for: a called Function's own bytes
        as it answered them, else the value serialized (a callable's, a whole page list)."""
        step, cache = cache_step(node), self.fetcher.cache
        if step is None or cache is None:
            return
        key = self.cache_key(node, context)
        if key is not None:
            if body is None:
                body = json.dumps(value, separators=(",", ":"), default=str).encode()
            cache.remember(key, 200, body, step)

    def cache_key(self, node: Node, context: Mapping[str, Any]) -> str | None:
        """The fallback cache key of this source's call in ``context``."""
        cache = self.fetcher.cache
        if cache is None:
            return None
        if isinstance(node.source, CallSource):
            assert node.args is not None
            return cache.call_key(node, node.args.render(context))
        return self.fetcher.cache_key(node, context)

    async def call(
        self, node: Node, context: Mapping[str, Any], timeout: float | None
    ) -> tuple[Any, bytes | None]:
        """The call's value, and a called Function's answer bytes (None for a callable)."""
        from sff.function import Function

        assert isinstance(node.source, CallSource) and node.args is not None
        args = node.args.render(context)
        left = (
            self.deadline.remaining()
            if timeout is None
            else min(timeout, self.deadline.remaining())
        )
        target = node.source.target
        try:
            if isinstance(target, Function):
                shared = self.fetcher.cache
                result = await target.invoke(
                    args,
                    timeout=left,
                    request_id=self.meta.request_id,
                    client=self.fetcher.client,
                    cache=shared.store if shared is not None else None,  # one store per invocation
                )
                self.inherit_caching(node.name, result.meta)
                return result.json(), result.body()
            async with asyncio.timeout(left) as scope:
                value = await target(**args)
        except TimeoutError as exc:
            if isinstance(target, Function) or scope.expired():
                raise SourceError(node.name, f"timed out after {left:.3g}s") from None
            raise SourceError(node.name, f"TimeoutError: {str(exc)[:200]}") from None
        except SffError as exc:
            raise SourceError(node.name, exc.message) from None
        except Exception as exc:  # a user's service call: report it, never crash the caller
            from sff import failures  # here: only a failure needs it

            raise failures.call_failed(node.name, exc, self.meta.request_id) from None
        # A copy: the callable may hand back an object it keeps (a constant, its own cache).
        copied = value.model_dump(mode="json") if isinstance(value, BaseModel) else fresh(value)
        return copied, None

    def inherit_caching(self, name: str, inner: Meta) -> None:
        """A called Function's own answer rule (private, no-store, max-age) counts for the
        caller's answer as a backend's Cache-Control would."""
        src = self.meta.sources[name]
        src.cache_control = answer.cache_control(inner)
        self.meta.personal = self.meta.personal or inner.personal
        declared = parse_cache_control(src.cache_control).max_age
        src.fresh_s = None if declared is None else float(declared)

    async def fall_back(self, node: Node, src: SourceMeta, error: SffError) -> Any:
        """The first step of the chain that gives data stands in; without a fallback the
        source is required and its failure is the invocation's."""
        chain = node.source.options.fallback
        if node.each is not None:  # items had their own chance; no single cached copy
            chain = tuple(step for step in chain if step.kind != "cache")
        late = self.deadline.remaining() <= 0  # cut off by the deadline, not by itself
        if isinstance(error, SourceError) and error.upstream_status is not None:
            src.status = error.upstream_status  # a 404 shows as 404 in meta, not as nothing
        from sff import failures  # here: only a failed source needs it

        failures.noted(src, error, self.meta.request_id)
        propagated = node.source.options.propagate  # only on a required source (the plan)
        if propagated and isinstance(error, SourceError) and error.upstream_status in propagated:
            from sff.propagate import error as answer_of

            src.outcome, src.error = "failed", error.message
            raise answer_of(node.name, error.upstream_status) from None
        try:
            found = await self.rescue(node, self.context, chain, error)
        except SffError as final:
            src.outcome, src.error = "failed", final.message
            raise (self.deadline_error([node.name]) if late else final) from None
        why = "deadline" if late else "expression" if isinstance(error, EvaluationError) else ""
        return self.degrade(node, src, found, error, reason=why)

    async def rescue(
        self, node: Node, context: Mapping[str, Any], chain: tuple[Fallback, ...], error: SffError
    ) -> Rescue:
        return await rescue(
            chain,
            error,
            cache=self.fetcher.cache,
            key=lambda: self.cache_key(node, context),
            within=self.deadline.left_to_answer(),
        )

    def degrade(
        self, node: Node, src: SourceMeta, found: Rescue, error: SffError, reason: str = ""
    ) -> Any:
        src.outcome, src.degraded, src.error = "degraded", reason or found.kind, error.message
        if found.age_s is not None:
            src.cache, src.stale_s = "stale", found.age_s
        tracing.event(
            "sff.fallback",
            **{"sff.source": node.name, "sff.outcome": "degraded", "sff.reason": src.degraded},
            **{"sff.stale_s": found.age_s},
        )
        self.context[node.name] = found.value
        return found.value


def _seen(node: Node, read: frozenset[str], count: int) -> list[Seen] | None:
    """One holder per item for the answer it gets, when an expression reads them."""
    if node.name not in read:
        return None
    return [Seen() for _ in range(count)]


def _stood_in(outcome: Rescue | SffError | None) -> str | None:
    """What answered for a failed item: a fallback's kind, or None (the item is null)."""
    return outcome.kind if isinstance(outcome, Rescue) else None


def item_chain(node: Node) -> tuple[Fallback, ...]:
    """What one failed `each` item tries: its own chain, else the source's cache step
    (a cached copy is kept per request, so per item)."""
    opts = node.source.options
    return opts.item_fallback or tuple(f for f in opts.fallback if f.kind == "cache")
