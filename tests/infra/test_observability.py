"""Observability under Pulumi mocks: the encrypted alarm topic every alarm notifies, the
alarms on the API, transcoding, QoE, the CDNs and the event consumer, and the dashboard
(``dashboard_body`` as a pure function, and as deployed)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from flixstack import spec
from flixstack.media import dispatch
from infra import outputs
from infra.components import observability, recommendations
from infra.components.alerting import CLOUDFRONT_REGION
from infra.components.analytics import MAX_RECORD_AGE_S
from infra.components.observability import dashboard_body
from infra.components.transcoding import DISPATCH_SERVICE
from infra.config import StackConfig
from infra.policy import rules
from tests.infra.mockgraph import (
    ACCOUNT,
    REGION,
    Graph,
    naming,
    resolve,
    run_stack,
    stack_config,
    statements,
)

pytestmark = pytest.mark.usefixtures("no_pip")

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
DISTRIBUTIONS = {"cloudfront-a": "E1AAAA", "cloudfront-b": "E2BBBB"}


def _body(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "region": "eu-west-1",
        "api_id": "api123",
        "transcode_queue": "q-transcode",
        "transcode_dead_letter": "q-transcode-dlq",
        "events_dead_letter": "q-events-dlq",
        "consumer_function": "f-events",
        "distributions": DISTRIBUTIONS,
        "api_latency_p99_ms": 800,
        **changes,
    }
    return dict(json.loads(dashboard_body(**arguments)))


def _widgets(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["properties"]["title"]: w for w in body["widgets"]}


def _series(widget: dict[str, Any]) -> list[list[Any]]:
    """The widget's metrics (namespace, name, dimension pairs...), options dropped."""
    return [
        [part for part in metric if not isinstance(part, dict)]
        for metric in widget["properties"]["metrics"]
    ]


def _expressions(widget: dict[str, Any]) -> list[str]:
    return [
        metric[0]["expression"]
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[0], dict)
    ]


def _per_cdn(cdn: str) -> list[str]:
    """The dimension pairs of the consumer's per-CDN metrics, as a dashboard lists them."""
    return ["service", spec.EVENTS_SERVICE, spec.CDN_DIMENSION, cdn]


def _alarms(graph: Graph) -> dict[str, dict[str, Any]]:
    return {a.props["name"]: dict(a.props) for a in graph.of(rules.ALARM)}


def _topic_arn(graph: Graph, region: str = REGION) -> str:
    return f"arn:aws:sns:{region}:{ACCOUNT}:{naming(graph).prefix}-alarms"


def _configured_cdns(stack: str) -> list[str]:
    return [c["name"] for c in json.loads(stack_config(stack)["flixstack:cdns"])]


# --- the dashboard as a pure function --------------------------------------------------------
def test_the_dashboard_has_every_required_widget() -> None:
    assert set(_widgets(_body())) == {
        observability.W_API_LATENCY,
        observability.W_API_ERRORS,
        observability.W_TRANSCODE_QUEUE,
        observability.W_TRANSCODE_FAILURES,
        observability.W_STARTUP,
        observability.W_REBUFFER,
        observability.W_CDN_ERRORS,
        observability.W_EVENTS,
        observability.W_EVENTS_DLQ,
        observability.W_ITERATOR_AGE,
    }


def test_api_widgets_show_latency_percentiles_and_5xx_of_the_api() -> None:
    widgets = _widgets(_body())
    latency = widgets[observability.W_API_LATENCY]
    assert _series(latency) == [["AWS/ApiGateway", "Latency", "ApiId", "api123"]] * 2
    stats = [m[-1]["stat"] for m in latency["properties"]["metrics"]]
    assert stats == ["p50", "p99"]
    assert latency["properties"]["annotations"]["horizontal"][0]["value"] == 800
    errors = widgets[observability.W_API_ERRORS]
    assert ["AWS/ApiGateway", "5xx", "ApiId", "api123"] in _series(errors)
    assert ["AWS/ApiGateway", "Count", "ApiId", "api123"] in _series(errors)
    assert _expressions(errors) == [observability.api_error_rate_expression("errors", "requests")]


def test_transcode_widgets_show_the_queue_its_dead_letters_and_the_failure_rate() -> None:
    widgets = _widgets(_body())
    queue = _series(widgets[observability.W_TRANSCODE_QUEUE])
    assert ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q-transcode"] in queue
    assert [
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        "q-transcode-dlq",
    ] in queue
    failures = widgets[observability.W_TRANSCODE_FAILURES]
    names = {s[1] for s in _series(failures) if len(s) > 1}
    assert names == {
        observability.TASKS_STARTED,
        observability.TASKS_RETRIED,
        observability.TASKS_DEAD_LETTERED,
    }
    assert all(s[2:] == ["service", DISPATCH_SERVICE] for s in _series(failures) if len(s) > 1)
    assert _expressions(failures) == [
        observability.failure_rate_expression("started", "retried", "dead")
    ]


def test_qoe_widgets_show_startup_p95_and_rebuffer_ratio_per_cdn_from_the_spec_metrics() -> None:
    widgets = _widgets(_body())
    startup = widgets[observability.W_STARTUP]
    assert startup["properties"]["stat"] == "p95"
    assert _series(startup) == [
        [spec.METRICS_NAMESPACE, spec.METRIC_STARTUP, *_per_cdn(cdn)] for cdn in DISTRIBUTIONS
    ]
    rebuffer = widgets[observability.W_REBUFFER]
    series = [s for s in _series(rebuffer) if len(s) > 1]
    for cdn in DISTRIBUTIONS:
        assert [spec.METRICS_NAMESPACE, spec.METRIC_STALL, *_per_cdn(cdn)] in series
        assert [spec.METRICS_NAMESPACE, spec.METRIC_WATCH, *_per_cdn(cdn)] in series
    assert _expressions(rebuffer) == [
        observability.rebuffer_expression(f"stall{i}", f"watch{i}") for i in range(2)
    ]
    # each expression's inputs exist and stay off the chart
    ids = {
        m[-1]["id"]: m[-1]
        for m in rebuffer["properties"]["metrics"]
        if isinstance(m[-1], dict) and "expression" not in m[-1]
    }
    assert set(ids) == {"stall0", "watch0", "stall1", "watch1"}
    assert all(options["visible"] is False for options in ids.values())


def test_cdn_widget_shows_each_distribution_s_5xx_rate_from_us_east_1() -> None:
    cdn = _widgets(_body())[observability.W_CDN_ERRORS]
    assert cdn["properties"]["region"] == CLOUDFRONT_REGION  # the stack here is eu-west-1
    assert _series(cdn) == [
        ["AWS/CloudFront", "5xxErrorRate", "DistributionId", distribution, "Region", "Global"]
        for distribution in DISTRIBUTIONS.values()
    ]


def test_event_widgets_show_the_consumer_s_counts_dead_letters_and_iterator_age() -> None:
    widgets = _widgets(_body())
    counts = {s[1] for s in _series(widgets[observability.W_EVENTS])}
    assert counts == {
        spec.METRIC_EVENTS,
        spec.METRIC_DUPLICATES,
        spec.METRIC_POISON,
        spec.METRIC_LAG,
    }
    assert _series(widgets[observability.W_EVENTS_DLQ]) == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q-events-dlq"]
    ]
    assert _series(widgets[observability.W_ITERATOR_AGE]) == [
        ["AWS/Lambda", "IteratorAge", "FunctionName", "f-events"]
    ]


def test_widgets_tile_the_grid_without_overlapping() -> None:
    cells = {(w["x"], w["y"]) for w in _body()["widgets"]}
    assert len(cells) == len(_body()["widgets"])
    assert all(w["x"] + w["width"] <= 24 for w in _body()["widgets"])
    regional = [
        w for w in _body()["widgets"] if w["properties"]["title"] != observability.W_CDN_ERRORS
    ]
    assert {w["properties"]["region"] for w in regional} == {"eu-west-1"}


# --- the deployed dashboard ------------------------------------------------------------------
def test_the_deployed_dashboard_watches_this_stack_s_resources(stack: str, graph: Graph) -> None:
    n = naming(graph)
    (dashboard,) = graph.of("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.props["dashboardName"] == n.prefix
    body = json.loads(dashboard.props["dashboardBody"])
    text = json.dumps(body)
    for name in (
        n.queue(spec.TRANSCODE),
        n.queue(spec.TRANSCODE_DLQ),
        n.queue(spec.EVENTS_DLQ),
        f"{n.prefix}-events-consumer",
        f"{n.prefix}-api-id",  # the HTTP API's id under mocks
    ):
        assert f'"{name}"' in text
    cdn = _widgets(body)[observability.W_CDN_ERRORS]
    assert [s[3] for s in _series(cdn)] == [f"cdn-{c}-id" for c in _configured_cdns(stack)]


def test_each_other_region_has_a_panel_of_its_api_qoe_and_events_there() -> None:
    panel = observability.RegionalPanel(api_id="api-west", consumer_function="f-events-west")
    home = _widgets(_body())
    widgets = _widgets(_body(secondaries={"us-west-2": panel}))
    regional = {title: w for title, w in widgets.items() if title not in home}
    # THEN the primary's widgets are unchanged, and the region has its own of each but the
    # home-only ones (transcoding, the CDNs' own 5xx rate), reading its region's metrics
    assert {t: widgets[t] for t in home} == home
    assert set(regional) == {
        f"{title} (us-west-2)"
        for title in (
            observability.W_API_LATENCY,
            observability.W_API_ERRORS,
            observability.W_STARTUP,
            observability.W_REBUFFER,
            observability.W_EVENTS,
            observability.W_EVENTS_DLQ,
            observability.W_ITERATOR_AGE,
        )
    }
    assert {w["properties"]["region"] for w in regional.values()} == {"us-west-2"}
    text = json.dumps(regional)
    assert '"api-west"' in text
    assert '"f-events-west"' in text
    assert '"api123"' not in text
    # no two widgets overlap
    assert len({(w["x"], w["y"]) for w in widgets.values()}) == len(widgets)


def test_secondary_qoe_and_lag_alarms_are_made_and_notify_in_their_region(graph: Graph) -> None:
    prefix = naming(graph).prefix
    for region in resolve(graph.outputs[outputs.REGIONS])[1:]:
        suffixed = [
            a
            for a in graph.of(rules.ALARM)
            if a.props["name"].endswith(f"-{region}") and not a.props["name"].endswith("-unhealthy")
        ]
        assert suffixed
        for alarm in suffixed:
            assert graph.regions[alarm.name] == region, alarm.props["name"]
            assert alarm.props["alarmActions"] == [_topic_arn(graph, region)]
        (lag,) = [
            a for a in suffixed if a.props["name"] == f"{prefix}-events-iterator-age-{region}"
        ]
        assert lag.props["dimensions"] == {"FunctionName": f"{prefix}-events-consumer"}


# --- the alarm topic -------------------------------------------------------------------------
def test_every_alarm_notifies_the_encrypted_alarm_topic_when_it_fires_and_clears(
    graph: Graph,
) -> None:
    # one topic a region of the stack (us-east-1 stacks need no other for CloudFront), each
    # encrypted with a key of its region
    topics = {graph.regions[t.name]: t for t in graph.of(TOPIC)}
    assert set(topics) == set(resolve(graph.outputs[outputs.REGIONS]))
    for region, topic in topics.items():
        assert topic.props["name"] == f"{naming(graph).prefix}-alarms"
        key = "alerting-key" if region == REGION else f"alerting-{region}-key"
        assert topic.props["kmsMasterKeyId"] == f"arn:aws:kms:{region}:{ACCOUNT}:{key}"
    alarms = graph.of(rules.ALARM)
    assert alarms
    for alarm in alarms:
        # an alarm notifies a topic of its own region only
        topic = _topic_arn(graph, graph.regions[alarm.name])
        assert alarm.props["alarmActions"] == [topic], alarm.name
        assert alarm.props["okActions"] == [topic], alarm.name
        # traffic metrics: no data is no traffic, not a breach; a health check reports every
        # minute, so one that reports nothing is not a pass (api_domain.py)
        health = alarm.props.get("namespace") == "AWS/Route53"
        missing = "breaching" if health else "notBreaching"
        assert alarm.props["treatMissingData"] == missing, alarm.name
    assert rules.alarms_notify(alarms) == []


def test_the_topic_key_rotates_and_lets_only_this_account_s_alarms_encrypt(graph: Graph) -> None:
    key = graph.named("alerting-key").props
    assert key["enableKeyRotation"] is True
    found = statements(graph, "alerting-key")
    cloudwatch = found["CloudWatchAlarmsEncrypt"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert found["AccountUsesIam"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_only_this_account_s_alarms_of_the_region_publish_over_tls(graph: Graph) -> None:
    policy = graph.named("alerting-topic-policy")
    assert policy.props["arn"] == _topic_arn(graph)
    found = statements(graph, "alerting-topic-policy")
    assert set(found) == {"DenyInsecureTransport", "CloudWatchAlarmsPublish"}
    publish = found["CloudWatchAlarmsPublish"]
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert found["DenyInsecureTransport"]["Effect"] == "Deny"
    assert rules.service_principals_scoped([policy]) == []


def test_nobody_is_subscribed_unless_the_stack_names_an_address(graph: Graph) -> None:
    assert graph.of(SUBSCRIPTION) == []


def test_the_stack_s_alarm_email_is_subscribed() -> None:
    graph = run_stack("dev", {"flixstack:alarmEmail": "oncall@example.com"})
    (subscription,) = graph.of(SUBSCRIPTION)
    assert subscription.props == {
        "topic": _topic_arn(graph),
        "protocol": "email",
        "endpoint": "oncall@example.com",
    }


@pytest.mark.parametrize("email", ["oncall", "on call@example.com", "a@b"])
def test_a_bad_alarm_email_fails_fast(email: str) -> None:
    with pytest.raises(ValueError, match="alarmEmail"):
        StackConfig(stage="dev", region="us-east-1", bucket_suffix=None, alarm_email=email)


def test_the_alarm_topic_is_exported() -> None:
    graph = run_stack("dev")
    assert resolve(graph.outputs[outputs.ALARM_TOPIC_ARN]) == _topic_arn(graph)
    assert resolve(graph.outputs[outputs.DASHBOARD]) == naming(graph).prefix


# --- the alarms ------------------------------------------------------------------------------
def test_each_capability_and_cdn_has_its_alarms(stack: str, graph: Graph) -> None:
    prefix = naming(graph).prefix
    expected = {
        f"{prefix}-api-5xx",
        f"{prefix}-api-latency-p99",
        f"{prefix}-transcode-failures",
        f"{prefix}-events-iterator-age",
        *(f"{prefix}-{q.logical}-not-empty" for q in spec.QUEUES if q.dead_letter is None),
        f"{prefix}-{recommendations.DEAD_LETTER.logical}-not-empty",
    }
    for cdn in _configured_cdns(stack):
        expected |= {
            f"{prefix}-startup-p95-{cdn}",
            f"{prefix}-rebuffer-{cdn}",
            f"{prefix}-cdn-5xx-{cdn}",
        }
    config = stack_config(stack)
    regions = json.loads(config.get("flixstack:regions", "[]"))
    # every other region's API and events consumer have the alarms of the primary's, named
    # after its region
    for region in regions[1:]:
        expected |= {
            f"{prefix}-api-5xx-{region}",
            f"{prefix}-api-latency-p99-{region}",
            f"{prefix}-events-iterator-age-{region}",
            *(
                f"{prefix}-{kind}-{cdn}-{region}"
                for kind in ("startup-p95", "rebuffer")
                for cdn in _configured_cdns(stack)
            ),
        }
    if "flixstack:apiDomain" in config:  # each region's API behind the domain: its health
        expected |= {f"{prefix}-api-{region}-unhealthy" for region in regions}
    assert set(_alarms(graph)) == expected
    assert f"{prefix}-{spec.EVENTS_DLQ.logical}-not-empty" in expected


def test_api_5xx_share_and_p99_latency_of_this_api(stack: str, graph: Graph) -> None:
    alarms = _alarms(graph)
    api_id = f"{naming(graph).prefix}-api-id"
    errors = alarms[f"{naming(graph).prefix}-api-5xx"]
    queries = {q["id"]: q for q in errors["metricQueries"]}
    assert queries["errors"]["metric"]["metricName"] == "5xx"
    assert queries["requests"]["metric"]["metricName"] == "Count"
    for query in ("errors", "requests"):
        assert queries[query]["metric"]["namespace"] == "AWS/ApiGateway"
        assert queries[query]["metric"]["dimensions"] == {"ApiId": api_id}
        assert queries[query]["returnData"] is False
    assert queries["rate"]["expression"] == observability.api_error_rate_expression(
        "errors", "requests"
    )
    assert queries["rate"]["returnData"] is True
    assert errors["threshold"] == observability.API_5XX_PERCENT
    latency = alarms[f"{naming(graph).prefix}-api-latency-p99"]
    assert latency["extendedStatistic"] == "p99"
    assert (latency["namespace"], latency["metricName"]) == ("AWS/ApiGateway", "Latency")
    assert latency["dimensions"] == {"ApiId": api_id}
    assert latency["threshold"] == int(stack_config(stack).get("flixstack:apiLatencyP99Ms", "1000"))


def test_the_latency_threshold_comes_from_stack_config() -> None:
    graph = run_stack("dev", {"flixstack:apiLatencyP99Ms": "450"})
    assert _alarms(graph)[f"{naming(graph).prefix}-api-latency-p99"]["threshold"] == 450


def test_transcode_failure_rate_is_computed_from_what_the_dispatcher_counts(
    graph: Graph,
) -> None:
    # the dispatcher Lambdas emit these names, under this service and namespace
    source = inspect.getsource(dispatch)
    for name in (
        observability.TASKS_STARTED,
        observability.TASKS_RETRIED,
        observability.TASKS_DEAD_LETTERED,
    ):
        assert f'"{name}"' in source
    for function in ("transcoding-dispatch", "transcoding-retry"):
        env = graph.named(function).props["environment"]["variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == DISPATCH_SERVICE
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == spec.METRICS_NAMESPACE
    alarm = _alarms(graph)[f"{naming(graph).prefix}-transcode-failures"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert {q: queries[q]["metric"]["metricName"] for q in ("started", "retried", "dead")} == {
        "started": observability.TASKS_STARTED,
        "retried": observability.TASKS_RETRIED,
        "dead": observability.TASKS_DEAD_LETTERED,
    }
    for query in ("started", "retried", "dead"):
        metric = queries[query]["metric"]
        assert metric["namespace"] == spec.METRICS_NAMESPACE
        assert metric["dimensions"] == {"service": DISPATCH_SERVICE}
    assert queries["rate"]["expression"] == observability.failure_rate_expression(
        "started", "retried", "dead"
    )
    assert alarm["threshold"] == observability.TRANSCODE_FAILURE_PERCENT


def test_qoe_alarms_watch_startup_p95_and_rebuffer_ratio_of_each_cdn(
    stack: str, graph: Graph
) -> None:
    alarms = _alarms(graph)
    prefix = naming(graph).prefix
    for cdn in _configured_cdns(stack):
        dimensions = {"service": spec.EVENTS_SERVICE, spec.CDN_DIMENSION: cdn}
        startup = alarms[f"{prefix}-startup-p95-{cdn}"]
        assert startup["namespace"] == spec.METRICS_NAMESPACE
        assert startup["metricName"] == spec.METRIC_STARTUP
        assert startup["extendedStatistic"] == "p95"
        assert startup["dimensions"] == dimensions
        assert startup["threshold"] == 2000
        rebuffer = alarms[f"{prefix}-rebuffer-{cdn}"]
        queries = {q["id"]: q for q in rebuffer["metricQueries"]}
        assert queries["stall"]["metric"]["metricName"] == spec.METRIC_STALL
        assert queries["watch"]["metric"]["metricName"] == spec.METRIC_WATCH
        for query in ("stall", "watch"):
            assert queries[query]["metric"]["dimensions"] == dimensions
            assert queries[query]["metric"]["stat"] == "Sum"
        assert (
            queries["ratio"]["expression"] == "IF((watch + stall) > 0, stall / (watch + stall), 0)"
        )
        assert rebuffer["threshold"] == 0.01


def test_each_distribution_s_5xx_rate_is_alarmed(stack: str, graph: Graph) -> None:
    alarms = _alarms(graph)
    for cdn in _configured_cdns(stack):
        alarm = alarms[f"{naming(graph).prefix}-cdn-5xx-{cdn}"]
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/CloudFront", "5xxErrorRate")
        assert alarm["dimensions"] == {"DistributionId": f"cdn-{cdn}-id", "Region": "Global"}
        assert alarm["statistic"] == "Average"
        assert "region" not in alarm  # the stacks are in us-east-1, CloudFront's region


def test_outside_us_east_1_cdn_alarms_live_there_with_a_topic_of_their_own() -> None:
    # GIVEN a stack in another region
    graph = run_stack("dev", {"aws:region": "eu-west-1", "flixstack:alarmEmail": "a@b.example"})
    prefix = naming(graph).prefix
    # THEN a second topic (and key and subscription) is in us-east-1
    topics = {t.name: graph.regions[t.name] for t in graph.of(TOPIC)}
    assert topics == {"alerting-topic": "eu-west-1", "alerting-us-east-1-topic": CLOUDFRONT_REGION}
    assert graph.named("alerting-us-east-1-key").props["region"] == CLOUDFRONT_REGION
    assert len(graph.of(SUBSCRIPTION)) == 2
    cdn_policy = statements(graph, "alerting-us-east-1-topic-policy")["CloudWatchAlarmsPublish"]
    assert cdn_policy["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
        f"arn:aws:cloudwatch:{CLOUDFRONT_REGION}:"
    )
    # AND the CDN alarms are created there and notify it; the others stay home
    for name, alarm in _alarms(graph).items():
        if name.startswith(f"{prefix}-cdn-5xx-"):
            assert alarm["region"] == CLOUDFRONT_REGION
            assert alarm["alarmActions"] == [_topic_arn(graph, CLOUDFRONT_REGION)]
        else:
            assert "region" not in alarm
            assert alarm["alarmActions"] == [_topic_arn(graph, "eu-west-1")]


def test_the_consumer_s_iterator_age_is_alarmed(graph: Graph) -> None:
    alarm = _alarms(graph)[f"{naming(graph).prefix}-events-iterator-age"]
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Lambda", "IteratorAge")
    assert alarm["dimensions"] == {"FunctionName": f"{naming(graph).prefix}-events-consumer"}
    assert alarm["statistic"] == "Maximum"
    # long before records age out to the dead-letter queue
    assert alarm["threshold"] < MAX_RECORD_AGE_S * 1000 / 10
