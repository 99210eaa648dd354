"""A dashboard question right after each write: how long it takes, whether it was answered from the
figures before the write (`stale`), and how long the figures take to catch up (counted until a
question says it is current and counts the new contact); then, the figures current, how long the whole
gap analysis (GET /api/v1/insights/gaps) takes (a contact changes no need: its gaps stay ranked).
Then NEED_WRITES (default 0) writes that do change needs: one case is opened (a man in Texas) and its
recorded needs changed over the API that many times, each followed at once by a gap question: how long it
takes, whether it was answered from the ranking before the write (`stale`), and how long until the gaps
are ranked again.

Usage: after_write.py ADDR ANALYST_TOKEN ADVOCATE_TOKEN CONTACT.json WRITES [NEED_WRITES]
"""
import http.client
import json
import sys
import time


def main():
    addr, analyst, advocate, body_file, writes = sys.argv[1:6]
    need_writes = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    host, port = addr.split(":")
    conn = http.client.HTTPConnection(host, int(port))
    body = open(body_file, "rb").read()

    def ask(path="/api/v1/insights/summary"):
        conn.request("GET", path, headers={"Authorization": f"Bearer {analyst}"})
        res = conn.getresponse()
        out = json.loads(res.read())
        assert res.status == 200, out
        return out

    before = ask()["rows"][0]["counts"]["contacts"]
    first_ms, catch_up_ms, gap_ms, stale = [], [], [], 0
    for i in range(int(writes)):
        conn.request("POST", "/api/v1/contacts", body=body,
                     headers={"Authorization": f"Bearer {advocate}", "Content-Type": "application/json"})
        res = conn.getresponse()
        res.read()
        assert res.status == 201, res.status
        wrote = time.perf_counter()
        answer = ask()
        first_ms.append((time.perf_counter() - wrote) * 1000)
        stale += answer["stale"]
        while answer["stale"]:
            time.sleep(0.001)
            answer = ask()
        catch_up_ms.append((time.perf_counter() - wrote) * 1000)
        got = answer["rows"][0]["counts"]["contacts"]
        assert got == before + i + 1, f"after write {i + 1}: {got} contacts, expected {before + i + 1}"
        asked = time.perf_counter()
        ask("/api/v1/insights/gaps")
        gap_ms.append((time.perf_counter() - asked) * 1000)

    # Writes that change needs: a case whose recorded needs alternate.
    need_ms, need_current_ms, need_stale = [], [], 0
    if need_writes:
        contact = json.loads(body)
        contact["open_case"] = True
        contact["parties"] = [{"role": "potential_victim", "gender": "man", "age": 34}]
        conn.request("POST", "/api/v1/contacts", body=json.dumps(contact),
                     headers={"Authorization": f"Bearer {advocate}", "Content-Type": "application/json"})
        res = conn.getresponse()
        made = json.loads(res.read())
        assert res.status == 201, made
        case_id = made["case_id"]
        choices = [["emergency_shelter"], ["emergency_shelter", "legal_services"], ["legal_services"]]
        for i in range(need_writes):
            details = {"locations": [{"state": "TX"}], "needs": choices[i % len(choices)]}
            conn.request("PATCH", f"/api/v1/cases/{case_id}", body=json.dumps({"details": details}),
                         headers={"Authorization": f"Bearer {advocate}", "Content-Type": "application/json"})
            res = conn.getresponse()
            out = res.read()
            assert res.status == 200, out
            wrote = time.perf_counter()
            answer = ask("/api/v1/insights/gaps?limit=100")
            need_ms.append((time.perf_counter() - wrote) * 1000)
            need_stale += answer["stale"]
            while answer["stale"]:
                time.sleep(0.001)
                answer = ask("/api/v1/insights/gaps?limit=100")
            need_current_ms.append((time.perf_counter() - wrote) * 1000)

    def pct(xs, p):
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 2)

    print(json.dumps({
        "writes": len(first_ms),
        "question_after_write_ms": {"p50": pct(first_ms, 50), "p99": pct(first_ms, 99), "max": round(max(first_ms), 2)},
        "answered_stale": stale,
        "current_after_ms": {"p50": pct(catch_up_ms, 50), "p99": pct(catch_up_ms, 99), "max": round(max(catch_up_ms), 2)},
        "every_write_counted": True,
        "gap_question_once_current_ms": {"p50": pct(gap_ms, 50), "p99": pct(gap_ms, 99), "max": round(max(gap_ms), 2)},
    }))
    if need_ms:
        print(json.dumps({
            "need_writes": len(need_ms),
            "gap_question_after_need_write_ms": {"p50": pct(need_ms, 50), "p99": pct(need_ms, 99),
                                                 "max": round(max(need_ms), 2)},
            "answered_stale": need_stale,
            "gaps_current_after_ms": {"p50": pct(need_current_ms, 50), "p99": pct(need_current_ms, 99),
                                      "max": round(max(need_current_ms), 2)},
        }))


main()
