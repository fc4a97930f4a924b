"""Observability: the alarms that notify ``alerting``'s topic, and the stack's dashboard.

Alarms (each also notifies when it recovers):

* API: the HTTP API's 5xx share of requests, and its p99 latency, in every region of the
  stack (CloudWatch alarms are regional: each region's are made there and notify its topic);
* transcoding: the share of started worker tasks that failed (retried or dead-lettered),
  from the dispatcher's own metrics (``flixstack.media.dispatch``);
* quality of experience, per CDN: startup time p95 and the rebuffer ratio, from the event
  consumer's EMF metrics (``spec.METRIC_*``);
* delivery: each CloudFront distribution's 5xx error rate (in us-east-1, where CloudFront
  publishes its metrics);
* events: how far behind the stream the consumer reads (its iterator age).

Each other region of the stack has its API's alarms, its QoE alarms (its events consumer
emits its viewers' metrics there) and its consumer's lag alarm, made in that region and
notifying its topic; the dashboard (one, global) has a panel per region.

Every queue without a dead-letter queue of its own (the dead-letter queues, the events one
included) gets its not-empty alarm from ``messaging``, on the same topic.

The dashboard's body is ``dashboard_body``, a pure function of names and ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components import Region, tags
from infra.components.alerting import CLOUDFRONT_REGION
from infra.components.api_domain import RegionalApi
from infra.components.transcoding import DISPATCH_SERVICE

TYPE = "flixstack:index:Observability"
CAPABILITY = "observability"
MINUTE = 60
SERVICE_DIMENSION = "service"
"""The dimension Powertools Metrics adds to every metric: the emitting service."""

# --- API (API Gateway HTTP API metrics) -----------------------------------------------------
API_NAMESPACE = "AWS/ApiGateway"
API_5XX = "5xx"
API_REQUESTS = "Count"
API_LATENCY = "Latency"
API_5XX_PERCENT = 1.0
API_MIN_REQUESTS = 20
"""Requests a minute below which the 5xx share is not judged (one error in three is noise)."""

# --- transcoding: what TranscodeDispatcher counts, per service ``transcode-dispatch`` ---------
TASKS_STARTED = "TranscodeTasksStarted"
TASKS_RETRIED = "TranscodeTasksRetried"
TASKS_DEAD_LETTERED = "TranscodeTasksDeadLettered"
TRANSCODE_FAILURE_PERCENT = 20.0
TRANSCODE_PERIOD_S = 3600
"""A task runs minutes and its failure is counted when it stops: judge hours, not minutes."""

# --- quality of experience (the event consumer's metrics, per CDN) --------------------------
STARTUP_P95_MS = 2000.0
REBUFFER_RATIO = 0.01
QOE_PERIOD_S = 300

# --- delivery (CloudFront) ------------------------------------------------------------------
CDN_NAMESPACE = "AWS/CloudFront"
CDN_5XX_RATE = "5xxErrorRate"
CDN_5XX_PERCENT = 2.0
CLOUDFRONT_METRIC_REGION = "Global"

# --- events ---------------------------------------------------------------------------------
ITERATOR_AGE_MS = 60_000.0
"""A minute behind for five minutes: the consumer no longer keeps up with the stream."""

# --- queues ---------------------------------------------------------------------------------
QUEUE_VISIBLE = "ApproximateNumberOfMessagesVisible"
QUEUE_OLDEST = "ApproximateAgeOfOldestMessage"

# Dashboard widget titles (tests look widgets up by them).
W_API_LATENCY = "API latency"
W_API_ERRORS = "API requests and 5xx"
W_TRANSCODE_QUEUE = "Transcode queue and its dead letters"
W_TRANSCODE_FAILURES = "Transcode job failure rate (%)"
W_STARTUP = "Startup time p95 by CDN (ms)"
W_REBUFFER = "Rebuffer ratio by CDN"
W_CDN_ERRORS = "CDN 5xx error rate (%)"
W_EVENTS = "Events processed"
W_EVENTS_DLQ = "Events dead-letter queue"
W_ITERATOR_AGE = "Event consumer iterator age (ms)"


def api_error_rate_expression(errors: str, requests: str) -> str:
    """The 5xx share of requests in percent, 0 while there are too few requests to judge."""
    return f"IF({requests} >= {API_MIN_REQUESTS}, 100 * {errors} / {requests}, 0)"


def failure_rate_expression(started: str, retried: str, dead_lettered: str) -> str:
    """The share of started tasks that failed, in percent (no tasks, no value)."""
    return (
        f"IF({started} > 0, 100 * (FILL({retried}, 0) + FILL({dead_lettered}, 0)) / {started}, 0)"
    )


def rebuffer_expression(stall: str, watch: str) -> str:
    """Stalled time over stalled plus playing time."""
    return f"IF(({watch} + {stall}) > 0, {stall} / ({watch} + {stall}), 0)"


@dataclass(frozen=True)
class ObservabilityArgs:
    naming: spec.Naming
    region: str
    """The stack's region (the dashboard's, and every alarm's but CloudFront's)."""
    alarm_topic_arn: pulumi.Input[str]
    cloudfront_alarm_topic_arn: pulumi.Input[str]
    """The alarm topic in ``CLOUDFRONT_REGION`` (``Alerting.cloudfront_topic_arn``)."""
    api_id: pulumi.Input[str]
    queue_names: Mapping[str, pulumi.Input[str]]
    consumer_function_name: pulumi.Input[str]
    distribution_ids: Mapping[str, pulumi.Input[str]]
    """CloudFront distribution ids by CDN name: the ``cdn`` dimension of the QoE metrics."""
    api_latency_p99_ms: float
    secondary_apis: Sequence[RegionalApi] = ()
    """The API in each other region of the stack (``api_id`` is the primary's)."""
    alarm_topic_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The alarm topic in each of those regions, by region (``Alerting.topic_arns``)."""
    secondary_consumers: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The events consumer function in each of those regions, by region
    (``RegionalEvents.function_name``): it emits that region's QoE metrics there."""

    def __post_init__(self) -> None:
        regions = {a.region.name for a in self.secondary_apis}
        missing = sorted(regions - set(self.alarm_topic_arns))
        if missing:
            raise ValueError(f"the APIs in {missing} need an alarm topic in their region")
        if set(self.secondary_consumers) != regions:
            raise ValueError(
                f"every other region ({sorted(regions)}) needs its events consumer, not "
                f"{sorted(self.secondary_consumers)}"
            )


def _metric(namespace: str, name: str, dimensions: Mapping[str, str], **options: Any) -> list[Any]:
    """A dashboard metric: namespace, name, dimension pairs and rendering options."""
    pairs = [part for key, value in dimensions.items() for part in (key, value)]
    return [namespace, name, *pairs, *([options] if options else [])]


def _widget(
    title: str,
    metrics: Sequence[Sequence[Any] | Mapping[str, Any]],
    *,
    region: str,
    stat: str = "Sum",
    period: int = MINUTE,
    threshold: float | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "region": region,
        "stat": stat,
        "period": period,
        "metrics": [list(m) if not isinstance(m, Mapping) else [dict(m)] for m in metrics],
    }
    if threshold is not None:
        properties["annotations"] = {"horizontal": [{"label": "alarm", "value": threshold}]}
    return {"type": "metric", "properties": properties}


@dataclass(frozen=True)
class RegionalPanel:
    """What the dashboard shows of another region of the stack: its API and its events
    consumer (a widget reads the metrics of one region: each region gets its own)."""

    api_id: str
    consumer_function: str


def dashboard_body(
    *,
    region: str,
    api_id: str,
    transcode_queue: str,
    transcode_dead_letter: str,
    events_dead_letter: str,
    consumer_function: str,
    distributions: Mapping[str, str],
    api_latency_p99_ms: float,
    secondaries: Mapping[str, RegionalPanel] | None = None,
) -> str:
    """The dashboard: API latency and errors, the transcode queue and job failures, QoE
    (startup p95 and rebuffer ratio) per CDN, each CDN's 5xx rate, and the event consumer
    (what it processed, its dead letters and how far behind it reads); then, for each other
    region of the stack, its API, QoE and event consumer, titled with the region. Two
    widgets a row."""
    dispatch = {SERVICE_DIMENSION: DISPATCH_SERVICE}
    ns = spec.METRICS_NAMESPACE
    cdns = list(distributions)
    api = _api_widgets(region, api_id, api_latency_p99_ms)
    qoe = _qoe_widgets(region, cdns)
    events = _events_widgets(region, events_dead_letter, consumer_function)
    widgets = [
        *api,
        _widget(
            W_TRANSCODE_QUEUE,
            [
                _metric("AWS/SQS", QUEUE_VISIBLE, {"QueueName": transcode_queue}),
                _metric("AWS/SQS", QUEUE_OLDEST, {"QueueName": transcode_queue}, yAxis="right"),
                _metric("AWS/SQS", QUEUE_VISIBLE, {"QueueName": transcode_dead_letter}),
            ],
            region=region,
            stat="Maximum",
        ),
        _widget(
            W_TRANSCODE_FAILURES,
            [
                _metric(ns, TASKS_STARTED, dispatch, id="started"),
                _metric(ns, TASKS_RETRIED, dispatch, id="retried"),
                _metric(ns, TASKS_DEAD_LETTERED, dispatch, id="dead"),
                {
                    "expression": failure_rate_expression("started", "retried", "dead"),
                    "label": "failed %",
                    "id": "rate",
                    "yAxis": "right",
                },
            ],
            region=region,
            period=TRANSCODE_PERIOD_S,
            threshold=TRANSCODE_FAILURE_PERCENT,
        ),
        *qoe,
        _widget(
            W_CDN_ERRORS,
            [
                _metric(
                    CDN_NAMESPACE,
                    CDN_5XX_RATE,
                    {"DistributionId": distribution, "Region": CLOUDFRONT_METRIC_REGION},
                    label=cdn,
                )
                for cdn, distribution in distributions.items()
            ],
            region=CLOUDFRONT_REGION,
            stat="Average",
            period=QOE_PERIOD_S,
            threshold=CDN_5XX_PERCENT,
        ),
        *events,
    ]
    for other, panel in sorted((secondaries or {}).items()):
        regional = [
            *_api_widgets(other, panel.api_id, api_latency_p99_ms),
            *_qoe_widgets(other, cdns),
            *_events_widgets(other, events_dead_letter, panel.consumer_function),
        ]
        for widget in regional:
            widget["properties"]["title"] += f" ({other})"
        widgets += regional
    for index, widget in enumerate(widgets):
        widget.update(x=(index % 2) * 12, y=(index // 2) * 6, width=12, height=6)
    return json.dumps({"widgets": widgets}, sort_keys=True)


def _api_widgets(region: str, api_id: str, latency_ms: float) -> list[dict[str, Any]]:
    api = {"ApiId": api_id}
    return [
        _widget(
            W_API_LATENCY,
            [
                _metric(API_NAMESPACE, API_LATENCY, api, stat="p50", label="p50"),
                _metric(API_NAMESPACE, API_LATENCY, api, stat="p99", label="p99"),
            ],
            region=region,
            stat="p99",
            threshold=latency_ms,
        ),
        _widget(
            W_API_ERRORS,
            [
                _metric(API_NAMESPACE, API_REQUESTS, api, id="requests"),
                _metric(API_NAMESPACE, API_5XX, api, id="errors"),
                {
                    "expression": api_error_rate_expression("errors", "requests"),
                    "label": "5xx %",
                    "id": "rate",
                    "yAxis": "right",
                },
            ],
            region=region,
        ),
    ]


def _qoe_widgets(region: str, cdns: Sequence[str]) -> list[dict[str, Any]]:
    ns = spec.METRICS_NAMESPACE

    def per_cdn(cdn: str) -> dict[str, str]:
        return {SERVICE_DIMENSION: spec.EVENTS_SERVICE, spec.CDN_DIMENSION: cdn}

    rebuffer: list[Sequence[Any] | Mapping[str, Any]] = []
    for index, cdn in enumerate(cdns):
        stall, watch = f"stall{index}", f"watch{index}"
        rebuffer += [
            {"expression": rebuffer_expression(stall, watch), "label": cdn, "id": f"r{index}"},
            _metric(ns, spec.METRIC_STALL, per_cdn(cdn), id=stall, visible=False),
            _metric(ns, spec.METRIC_WATCH, per_cdn(cdn), id=watch, visible=False),
        ]
    return [
        _widget(
            W_STARTUP,
            [_metric(ns, spec.METRIC_STARTUP, per_cdn(cdn), label=cdn) for cdn in cdns],
            region=region,
            stat="p95",
            period=QOE_PERIOD_S,
            threshold=STARTUP_P95_MS,
        ),
        _widget(W_REBUFFER, rebuffer, region=region, period=QOE_PERIOD_S, threshold=REBUFFER_RATIO),
    ]


def _events_widgets(region: str, dead_letter: str, consumer: str) -> list[dict[str, Any]]:
    ns = spec.METRICS_NAMESPACE
    events = {SERVICE_DIMENSION: spec.EVENTS_SERVICE}
    return [
        _widget(
            W_EVENTS,
            [
                _metric(ns, spec.METRIC_EVENTS, events),
                _metric(ns, spec.METRIC_DUPLICATES, events),
                _metric(ns, spec.METRIC_POISON, events),
                _metric(ns, spec.METRIC_LAG, events, stat="Maximum", yAxis="right"),
            ],
            region=region,
        ),
        _widget(
            W_EVENTS_DLQ,
            [_metric("AWS/SQS", QUEUE_VISIBLE, {"QueueName": dead_letter})],
            region=region,
            stat="Maximum",
        ),
        _widget(
            W_ITERATOR_AGE,
            [_metric("AWS/Lambda", "IteratorAge", {"FunctionName": consumer})],
            region=region,
            stat="Maximum",
            threshold=ITERATOR_AGE_MS,
        ),
    ]


def _query(
    id_: str,
    namespace: str,
    name: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    *,
    period: int,
    stat: str = "Sum",
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=id_,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace,
            metric_name=name,
            dimensions=dimensions,
            period=period,
            stat=stat,
        ),
    )


def _expression(id_: str, expression: str, label: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=id_, expression=expression, label=label, return_data=True
    )


def _in(region: Region | None) -> str:
    """`` in <region>`` for an alarm's description outside the primary region."""
    return f" in {region.name}" if region else ""


class Observability(pulumi.ComponentResource):
    alarm_names: dict[str, pulumi.Output[str]]
    """Every alarm of the component by role (``api-5xx``, ``startup-p95-<cdn>``, ...)."""
    dashboard_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self.alarm_names = {}
        alarm = partial(self._alarm, name, args)
        self._api_alarms(alarm, args, args.api_id)
        for regional in args.secondary_apis:
            self._api_alarms(alarm, args, regional.api_id, regional.region)
            # the region's events consumer emits its viewers' QoE there
            for cdn in args.distribution_ids:
                self._qoe_alarms(alarm, cdn, regional.region)
            self._lag_alarm(alarm, args.secondary_consumers[regional.region.name], regional.region)
        dispatch = {SERVICE_DIMENSION: DISPATCH_SERVICE}
        ns = spec.METRICS_NAMESPACE
        alarm(
            "transcode-failures",
            f"More than {TRANSCODE_FAILURE_PERCENT:g}% of transcode tasks failed in an hour",
            threshold=TRANSCODE_FAILURE_PERCENT,
            evaluation_periods=1,
            metric_queries=[
                _query("started", ns, TASKS_STARTED, dispatch, period=TRANSCODE_PERIOD_S),
                _query("retried", ns, TASKS_RETRIED, dispatch, period=TRANSCODE_PERIOD_S),
                _query("dead", ns, TASKS_DEAD_LETTERED, dispatch, period=TRANSCODE_PERIOD_S),
                _expression(
                    "rate",
                    failure_rate_expression("started", "retried", "dead"),
                    "failed % of started tasks",
                ),
            ],
        )
        for cdn, distribution in args.distribution_ids.items():
            self._qoe_alarms(alarm, cdn)
            alarm(
                f"cdn-5xx-{cdn}",
                f"CDN {cdn}: more than {CDN_5XX_PERCENT:g}% of requests fail with 5xx",
                threshold=CDN_5XX_PERCENT,
                evaluation_periods=3,
                namespace=CDN_NAMESPACE,
                metric_name=CDN_5XX_RATE,
                dimensions={"DistributionId": distribution, "Region": CLOUDFRONT_METRIC_REGION},
                statistic="Average",
                period=QOE_PERIOD_S,
                cloudfront=True,
            )
        self._lag_alarm(alarm, args.consumer_function_name)
        transcode_dead_letter = spec.TRANSCODE.dead_letter
        assert transcode_dead_letter is not None  # the spec gives the transcode queue one
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.naming.prefix,
            dashboard_body=pulumi.Output.all(
                api=args.api_id,
                queue=args.queue_names[spec.TRANSCODE.logical],
                queue_dlq=args.queue_names[transcode_dead_letter.logical],
                events_dlq=args.queue_names[spec.EVENTS_DLQ.logical],
                consumer=args.consumer_function_name,
                distributions=dict(args.distribution_ids),
                secondary_apis={a.region.name: a.api_id for a in args.secondary_apis},
                secondary_consumers=dict(args.secondary_consumers),
            ).apply(
                lambda v: dashboard_body(
                    region=args.region,
                    api_id=v["api"],
                    transcode_queue=v["queue"],
                    transcode_dead_letter=v["queue_dlq"],
                    events_dead_letter=v["events_dlq"],
                    consumer_function=v["consumer"],
                    distributions=v["distributions"],
                    api_latency_p99_ms=args.api_latency_p99_ms,
                    secondaries={
                        region: RegionalPanel(api_id, v["secondary_consumers"][region])
                        for region, api_id in v["secondary_apis"].items()
                    },
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs(
            {"alarm_names": self.alarm_names, "dashboard_name": self.dashboard_name}
        )

    @staticmethod
    def _api_alarms(
        alarm: Callable[..., None],
        args: ObservabilityArgs,
        api_id: pulumi.Input[str],
        region: Region | None = None,
    ) -> None:
        """The 5xx share and p99 latency alarms of one region's API (the primary's: None)."""
        api = {"ApiId": api_id}
        where = _in(region)
        alarm(
            "api-5xx",
            f"More than {API_5XX_PERCENT:g}% of API requests{where} fail with 5xx",
            region=region,
            threshold=API_5XX_PERCENT,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            metric_queries=[
                _query("errors", API_NAMESPACE, API_5XX, api, period=MINUTE),
                _query("requests", API_NAMESPACE, API_REQUESTS, api, period=MINUTE),
                _expression(
                    "rate", api_error_rate_expression("errors", "requests"), "5xx % of requests"
                ),
            ],
        )
        alarm(
            "api-latency-p99",
            f"API p99 latency{where} above {args.api_latency_p99_ms:g} ms",
            region=region,
            threshold=args.api_latency_p99_ms,
            evaluation_periods=3,
            namespace=API_NAMESPACE,
            metric_name=API_LATENCY,
            dimensions=api,
            extended_statistic="p99",
            period=QOE_PERIOD_S,
        )

    @staticmethod
    def _lag_alarm(
        alarm: Callable[..., None], consumer: pulumi.Input[str], region: Region | None = None
    ) -> None:
        """How far behind its stream a region's events consumer reads (the primary's: None)."""
        where = _in(region)
        alarm(
            "events-iterator-age",
            f"The event consumer{where} reads more than {ITERATOR_AGE_MS / 1000:g} s behind "
            "the stream",
            region=region,
            threshold=ITERATOR_AGE_MS,
            evaluation_periods=5,
            namespace="AWS/Lambda",
            metric_name="IteratorAge",
            dimensions={"FunctionName": consumer},
            statistic="Maximum",
            period=MINUTE,
        )

    @staticmethod
    def _qoe_alarms(alarm: Callable[..., None], cdn: str, region: Region | None = None) -> None:
        """Startup p95 and rebuffer ratio of one CDN's viewers whose events one region's
        consumer handled (the primary's: None)."""
        ns = spec.METRICS_NAMESPACE
        dimensions = {SERVICE_DIMENSION: spec.EVENTS_SERVICE, spec.CDN_DIMENSION: cdn}
        where = _in(region)
        alarm(
            f"startup-p95-{cdn}",
            f"CDN {cdn}: p95 startup time{where} above {STARTUP_P95_MS:g} ms",
            region=region,
            threshold=STARTUP_P95_MS,
            evaluation_periods=3,
            namespace=ns,
            metric_name=spec.METRIC_STARTUP,
            dimensions=dimensions,
            extended_statistic="p95",
            period=QOE_PERIOD_S,
        )
        alarm(
            f"rebuffer-{cdn}",
            f"CDN {cdn}: viewers{where} wait more than {REBUFFER_RATIO:.0%} of their viewing time",
            region=region,
            threshold=REBUFFER_RATIO,
            evaluation_periods=3,
            metric_queries=[
                _query("stall", ns, spec.METRIC_STALL, dimensions, period=QOE_PERIOD_S),
                _query("watch", ns, spec.METRIC_WATCH, dimensions, period=QOE_PERIOD_S),
                _expression("ratio", rebuffer_expression("stall", "watch"), "rebuffer ratio"),
            ],
        )

    def _alarm(
        self,
        name: str,
        args: ObservabilityArgs,
        role: str,
        description: str,
        *,
        cloudfront: bool = False,
        region: Region | None = None,
        **metric: Any,
    ) -> None:
        """One alarm above ``threshold`` that notifies the alarm topic of its region when it
        fires and when it recovers: the stack's, us-east-1 for CloudFront's metrics, or a
        secondary ``region``'s, where it is made with that region's provider and its role
        (and name) end with the region. Missing data (no traffic) is not a breach."""
        if region is not None:
            role = f"{role}-{region.name}"
        elsewhere = cloudfront and args.region != CLOUDFRONT_REGION
        topic = (
            args.alarm_topic_arns[region.name]
            if region
            else args.cloudfront_alarm_topic_arn
            if cloudfront
            else args.alarm_topic_arn
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-{role}",
            name=f"{args.naming.prefix}-{role}",
            alarm_description=description,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[topic],
            ok_actions=[topic],
            region=CLOUDFRONT_REGION if elsewhere else None,
            tags=tags(args.naming.stage, CAPABILITY),
            opts=pulumi.ResourceOptions(parent=self, provider=region.provider if region else None),
            **metric,
        )
        self.alarm_names[role] = alarm.name
