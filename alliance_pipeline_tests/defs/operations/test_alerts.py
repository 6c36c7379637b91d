"""Run-failure alerts (defs/operations/alerts.py): one JSON message to a webhook on 127.0.0.1 per failed run."""

from __future__ import annotations

import dagster as dg


def test_a_failed_run_posts_one_alert_to_the_webhook(instance, env, sample_copy):
    """A bad export fails its year's run; the run-failure sensor posts one JSON alert to a webhook on 127.0.0.1
    naming the asset, the partition, the check's message and the run's URL."""
    import http.server
    import json
    import threading

    from alliance_pipeline.defs.operations.alerts import AlertSettings, alert_on_run_failure
    from alliance_pipeline.defs.operations.planner import register_years

    received: list[dict] = []

    class Webhook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    defs = env.source(sample_copy)
    register_years(instance, defs.resources["edsight"])
    path = next((sample_copy / "enrollment-district").glob("*2015-16*"))
    path.write_text(path.read_text().replace('"=""0640011""",', '"=""0640011""",-', 1))
    job = defs.resolve_job_def("single_year_enrollment")
    result = job.execute_in_process(partition_key="2015-16", instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(event for event in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        alerts = AlertSettings(webhook_url=f"http://127.0.0.1:{server.server_address[1]}/hook", ui_url="http://ui.example:3000",
                               timeout_seconds=5)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=failure.dagster_event, dagster_instance=instance,
            dagster_run=run, resources={"alerts": alerts}).for_run_failure()
        alert_on_run_failure(context)
    finally:
        server.shutdown()
        server.server_close()
    [alert] = received
    assert alert["event"] == "run_failure" and alert["run_id"] == result.run_id and alert["partition"] == "2015-16"
    assert alert["job"] == "single_year_enrollment" and "raw_enrollment" in alert["assets"]
    assert path.name in alert["message"] and "student_count" in alert["message"]
    [check] = alert["failed_checks"]
    assert check["asset"] == "raw_enrollment" and check["severity"] == "ERROR" and "row" in check["message"]
    assert alert["run_url"] == f"http://ui.example:3000/runs/{result.run_id}"
    assert "alert_on_run_failure" in {sensor.name for sensor in defs.sensors}
