"""The test stack with VictoriaMetrics in Prometheus' place: victoria-metrics single-node scrapes
the simulator and the exporter, vmalert evaluates the same time-scaled generated rules against
it (recording rules written back by remote write) and notifies the same Alertmanager. Single-node
answers the query API and, through ``-vmalert.proxyURL``, vmalert's alerts and rules API, so the
stack's client and player work unchanged.

VictoriaMetrics' defaults hide the newest 30 s of data from queries (``-search.latencyOffset``)
and vmalert evaluates 30 s in the past (``-rule.evalDelay``): with 1 minute of rule time = 1 s
that is half an hour of rule time, so both are set to 0 here, as a deployment whose scrapes
arrive in time may do too.
"""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon.render.output import load_generated_yaml
from bzzzmon.stack import Stack, configs
from bzzzmon.stack.processes import LOOPBACK, ChildProcess, find_binary, free_port


class VictoriaMetricsStack(Stack):
    def _start_prometheus(self, binary: str) -> None:
        del binary  # Prometheus is not started: victoria-metrics and vmalert take its place
        assert self.sim is not None
        timing = self.options.timing
        rules = self._dir("vmalert/rules")
        groups = 0
        for source in sorted((self.generated / C.RULES_DIR).glob("*.yml")):
            text = source.read_text(encoding="utf-8")
            (rules / source.name).write_text(
                self.options.time_scale.rule_file(text), encoding="utf-8"
            )
            groups += len((load_generated_yaml(text) or {}).get("groups") or [])
        scrape = configs.prometheus_config(
            self.plan,
            agents=self.sim.agent_targets,
            exporter=self.exporter_url.removeprefix("http://"),
            alertmanager=self.alertmanager_url.removeprefix("http://"),
            rule_glob=None,
            timing=timing,
        )
        scrape_path = configs.write_yaml(
            self._dir("victoria-metrics") / "scrape.yml",
            {
                "global": {k: v for k, v in scrape["global"].items() if k.startswith("scrape_")},
                "scrape_configs": scrape["scrape_configs"],
            },
        )
        vmalert_port = free_port()
        vmalert_url = f"http://{LOOPBACK}:{vmalert_port}"
        storage = self._dir("victoria-metrics/data")

        def vm_args(port: int) -> list[str]:
            return [
                find_binary("victoria-metrics"),
                f"-storageDataPath={storage}",
                f"-httpListenAddr={LOOPBACK}:{port}",
                f"-promscrape.config={scrape_path}",
                "-search.latencyOffset=0s",
                "-search.disableCache",
                f"-vmalert.proxyURL={vmalert_url}",
                "-loggerLevel=WARN",
            ]

        _, self.prometheus_url = self._start_child("victoria-metrics", vm_args, "/-/ready")
        api = self.prometheus
        self.wait_until(
            lambda: (
                len(up := api.targets_up()) == len(self.sim.agent_targets) + 1  # type: ignore[union-attr]
                and all(up.values())
            ),
            timeout=self.options.ready_timeout,
            what="victoria-metrics to scrape every agent and the exporter",
        )

        # Started on the port single-node already proxies to (not by _start_child's retries).
        child = ChildProcess(
            "vmalert",
            [
                find_binary("vmalert"),
                f"-rule={rules}/*.yml",
                f"-datasource.url={self.prometheus_url}",
                f"-remoteWrite.url={self.prometheus_url}",
                "-remoteWrite.flushInterval=100ms",
                f"-notifier.url={self.alertmanager_url}",
                f"-evaluationInterval={configs.duration(timing.evaluation_interval)}",
                "-rule.evalDelay=0s",
                f"-rule.resendDelay={configs.duration(timing.resend_delay)}",
                f"-httpListenAddr={LOOPBACK}:{vmalert_port}",
                f"-external.url={vmalert_url}",
                "-loggerLevel=WARN",
            ],
            self._dir("logs") / "vmalert.log",
        )
        self.children.append(child)
        child.wait_ready(f"{vmalert_url}/-/ready", self.options.ready_timeout)
        self.wait_until(
            lambda: len(api.rule_groups()) == groups,
            timeout=self.options.ready_timeout,
            what=f"vmalert to load {groups} rule groups (see {child.log})",
        )
