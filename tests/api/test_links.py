"""The links report over HTTP without workers: a report is a task that waits for one; its
status answers at once, its files are 409 until it is done (saying how far it is), and only
links reports are found under /links."""

import httpx

from tests.api.support import enqueue


async def test_a_report_starts_as_a_task_and_its_file_waits_for_it(
        client: httpx.AsyncClient) -> None:
    started = await client.post("/links", json={"urls": ["https://youtu.be/dQw4w9WgXcQ",
                                                         "not a link"]})
    assert started.status_code == 202, started.text
    job = started.json()
    assert (job["status"], job["links"], job["summary"]) == ("PENDING", 2, None)
    assert (await client.get(f"/links/{job['job_id']}")).json()["job_id"] == job["job_id"]
    task = (await client.get(f"/scrape_request_log/flow/{job['job_id']}")).json()
    assert task["flow"] == "build_link_report"
    assert task["params"]["urls"] == ["https://youtu.be/dQw4w9WgXcQ", "not a link"]
    for extension in ("xlsx", "csv"):
        early = await client.get(f"/links/{job['job_id']}/report.{extension}")
        assert early.status_code == 409
        assert early.json()["detail"] == f"links report {job['job_id']} is PENDING: not ready"


async def test_bad_requests_say_why(client: httpx.AsyncClient) -> None:
    assert (await client.post("/links", json={"urls": []})).status_code == 422
    too_many = await client.post("/links", json={"urls": ["https://x.com/a"] * 10_001})
    assert too_many.status_code in (413, 422)
    unknown_key = await client.post("/links", json={"urls": ["https://x.com/a"], "sheet": 1})
    assert unknown_key.status_code == 422 and "sheet" in unknown_key.text
    assert (await client.get("/links/987654321")).status_code == 404
    other = await enqueue(client, "sleep", params={"seconds": 1})
    assert (await client.get(f"/links/{other['id']}")).status_code == 404  # not a report
    started = (await client.post("/links", json={"urls": ["https://x.com/a"]})).json()
    assert (await client.get(f"/links/{started['job_id']}/report.pdf")).status_code == 404
