import AkuaSimulator
import Foundation
import Testing

/// The `/v1` contract over real loopback HTTP: auth, validation, create, replay, lookups.
@Suite("Akua API behaviour")
struct APIBehaviourTests {
    @Test("401 without a token and with a wrong token, in ApiErrorResponse shape")
    func unauthorized() async throws {
        try await withSimulator { sim in
            let missing = try await sim.send(.GET, "/v1/machines", token: nil)
            #expect(missing.status == 401)
            #expect(missing.json?["success"] as? Bool == false)
            #expect((missing.json?["result"] as? [String: Any])?.isEmpty == true)
            #expect(missing.errorCode == SimulatorErrorCode.unauthorized)

            let wrong = try await sim.send(.POST, "/v1/machines/mch_a/drift_reports", token: "nope", body: "{}")
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == SimulatorErrorCode.unauthorized)
            #expect(sim.server.control.stats().createsTotal == 0)

            let right = try await sim.send(.GET, "/v1/machines")
            #expect(right.status == 200)
        }
    }

    @Test("token rotation through control and through PUT /_sim/token")
    func tokenRotation() async throws {
        try await withSimulator { sim in
            sim.server.control.setToken("rotated-1")
            #expect(try await sim.send(.GET, "/v1/machines").status == 401)
            #expect(try await sim.send(.GET, "/v1/machines", token: "rotated-1").status == 200)

            let put = try await sim.send(.PUT, "/_sim/token", token: nil, body: "{\"token\":\"rotated-2\"}")
            #expect(put.status == 204)
            #expect(try await sim.send(.GET, "/v1/machines", token: "rotated-1").status == 401)
            #expect(try await sim.send(.GET, "/v1/machines", token: "rotated-2").status == 200)
        }
    }

    @Test("404 for an unknown machine and an unknown report (code 7002)")
    func notFound() async throws {
        try await withSimulator { sim in
            let machine = try await sim.send(.GET, "/v1/machines/mch_nope")
            #expect(machine.status == 404)
            #expect(machine.errorCode == 7002)
            let post = try await sim.create("mch_nope")
            #expect(post.status == 404)
            #expect(post.errorCode == 7002)
            let list = try await sim.send(.GET, "/v1/machines/mch_nope/drift_reports")
            #expect(list.status == 404)
            let report = try await sim.send(.GET, "/v1/machines/mch_a/drift_reports/drf_000000000000000000000000")
            #expect(report.status == 404)
            #expect(report.errorCode == 7002)

            // A real report id under the wrong machine is not found either.
            let created = try await sim.create("mch_b")
            let id = try #require(created.json?["id"] as? String)
            #expect(try await sim.send(.GET, "/v1/machines/mch_a/drift_reports/\(id)").status == 404)
            #expect(try await sim.send(.GET, "/v1/machines/mch_b/drift_reports/\(id)").status == 200)
        }
    }

    @Test("400 for a long id, long idempotency key, long akua-context and malformed JSON")
    func badRequests() async throws {
        try await withSimulator { sim in
            let longID = String(repeating: "m", count: 55)
            let id = try await sim.send(.GET, "/v1/machines/\(longID)")
            #expect(id.status == 400)
            #expect(id.errorPath == ["path", "id"])
            let okID = String(repeating: "m", count: 54)
            #expect(try await sim.send(.GET, "/v1/machines/\(okID)").status == 404)

            let key = try await sim.create(key: String(repeating: "k", count: 65))
            #expect(key.status == 400)
            #expect(key.errorPath == ["header", "idempotency-key"])
            #expect(try await sim.create(key: String(repeating: "k", count: 64)).status == 201)

            let context = try await sim.send(.GET, "/v1/machines", headers: [("akua-context", "ws_" + String(repeating: "x", count: 51))])
            #expect(context.status == 400)
            #expect(context.errorPath == ["header", "akua-context"])
            #expect(try await sim.send(.GET, "/v1/machines", headers: [("akua-context", "ws_j572abc123def456")]).status == 200)

            let malformed = try await sim.create(body: "{\"trigger\": ")
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == SimulatorErrorCode.malformedJSON)

            for limit in ["0", "101", "abc", "-1"] {
                let list = try await sim.send(.GET, "/v1/machines?limit=\(limit)")
                #expect(list.status == 400, "limit=\(limit)")
                #expect(list.errorPath == ["query", "limit"])
            }
            #expect(try await sim.send(.GET, "/v1/machines?cursor=garbage").status == 400)
            #expect(try await sim.send(.GET, "/v1/machines?view=huge").status == 400)
            #expect(try await sim.send(.GET, "/v1/machines/mch_a/drift_reports?state=exploded").status == 400)
            #expect(sim.server.control.stats().createsTotal == 1)
        }
    }

    @Test("422 for an extra body field and a non-string trigger")
    func unprocessable() async throws {
        try await withSimulator { sim in
            let extra = try await sim.create(body: "{\"trigger\":\"x\",\"force\":true}")
            #expect(extra.status == 422)
            #expect(extra.errorPath == ["body", "force"])
            let number = try await sim.create(body: "{\"trigger\":42}")
            #expect(number.status == 422)
            #expect(number.errorPath == ["body", "trigger"])
            let array = try await sim.create(body: "[]")
            #expect(array.status == 422)
            #expect(sim.server.control.stats().createsTotal == 0)
            // An empty object and an empty body are fine.
            #expect(try await sim.create(body: "{}").status == 201)
            #expect(try await sim.create(body: nil).status == 201)
        }
    }

    @Test("201 with Location and every required DriftReport field; GET returns the same report")
    func createReport() async throws {
        let clock = ManualClock()
        try await withSimulator(configure: { $0.now = clock.closure }) { sim in
            let created = try await sim.create("mch_b")
            #expect(created.status == 201)
            let json = try #require(created.json)
            let id = try #require(json["id"] as? String)
            #expect(id.hasPrefix("drf_"))
            #expect(id.count == 28)
            #expect(json["machine_id"] as? String == "mch_b")
            #expect(json["state"] as? String == "drifted")
            #expect((json["etag"] as? String)?.isEmpty == false)
            let createdAt = try #require(json["created_at"] as? Int)
            #expect(createdAt == Int(clock.now))
            #expect(json["started_at"] as? Int == createdAt)
            #expect(json["expires_at"] as? Int == createdAt + 900)
            #expect(created.header("location") == "/v1/machines/mch_b/drift_reports/\(id)")

            // A drifted delta: 1-4 attributes with desired/actual; raw_attrs shows the actual values.
            let delta = try #require(json["delta"] as? [String: Any])
            #expect((1...4).contains(delta.count))
            let snapshot = try #require(json["provider_snapshot"] as? [String: Any])
            #expect(snapshot["provider"] as? String == "hcloud")
            let raw = try #require(snapshot["raw_attrs"] as? [String: Any])
            for (name, value) in delta {
                #expect(["image", "cpu", "memory_mb", "labels", "firewall"].contains(name))
                let pair = try #require(value as? [String: Any])
                let desired = try #require(pair["desired"])
                let actual = try #require(pair["actual"])
                #expect(!jsonEqual(desired, actual), "\(name) must differ")
                #expect(jsonEqual(raw[name] as Any, actual), "raw_attrs.\(name) must be the actual value")
            }

            let fetched = try await sim.send(.GET, try #require(created.header("location")))
            #expect(fetched.status == 200)
            #expect(fetched.body == created.body)

            let inSync = try await sim.create("mch_a")
            #expect(inSync.json?["state"] as? String == "in_sync")
            #expect((inSync.json?["delta"] as? [String: Any])?.isEmpty == true)
        }
    }

    @Test("idempotent replay returns the same report; counters show one report per key")
    func idempotentReplay() async throws {
        try await withSimulator { sim in
            let first = try await sim.create("mch_b", key: "check-1")
            #expect(first.status == 201)
            #expect(first.header("idempotent-replayed") == nil)
            let second = try await sim.create("mch_b", key: "check-1")
            #expect(second.status == 201)
            #expect(second.body == first.body)
            #expect(second.header("idempotent-replayed") == "true")
            #expect(second.header("location") == first.header("location"))

            // Without a key every POST creates.
            _ = try await sim.create("mch_b")
            _ = try await sim.create("mch_b")

            let stats = sim.server.control.stats()
            #expect(stats.createsTotal == 3)
            #expect(stats.requestsByKey["check-1"] == 2)
            #expect(stats.reportsByKey["check-1"] == 1)
            #expect(stats.reportsByMachine["mch_b"] == 3)
            #expect(stats.requestsTotal == 4)

            // The same numbers over HTTP.
            let http = try await sim.send(.GET, "/_sim/stats", token: nil)
            let json = try #require(http.json)
            #expect(json["creates_total"] as? Int == 3)
            #expect((json["reports_by_key"] as? [String: Int])?["check-1"] == 1)
            #expect((json["requests_by_key"] as? [String: Int])?["check-1"] == 2)
            #expect(json["conflicts_total"] as? Int == 0)
        }
    }

    @Test("the same key with another body or machine is a 409 conflict")
    func idempotencyConflict() async throws {
        try await withSimulator { sim in
            #expect(try await sim.create("mch_a", key: "k-1", body: "{\"trigger\":\"a\"}").status == 201)
            let otherBody = try await sim.create("mch_a", key: "k-1", body: "{\"trigger\":\"b\"}")
            #expect(otherBody.status == 409)
            #expect(otherBody.errorCode == SimulatorErrorCode.idempotencyConflict)
            #expect(otherBody.errorPath == ["header", "idempotency-key"])
            let otherMachine = try await sim.create("mch_b", key: "k-1", body: "{\"trigger\":\"a\"}")
            #expect(otherMachine.status == 409)
            let stats = sim.server.control.stats()
            #expect(stats.conflictsTotal == 2)
            #expect(stats.createsTotal == 1)
            #expect(stats.reportsByKey["k-1"] == 1)
            #expect(stats.requestsByKey["k-1"] == 3)
        }
    }

    @Test("machine list pagination with cursor, filters and views")
    func machinePagination() async throws {
        let machines = (1...5).map { SimulatedMachine(id: "mch_\($0)", clusterID: $0 % 2 == 0 ? "cls_even" : "cls_odd") }
        try await withSimulator(machines: machines) { sim in
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = "/v1/machines?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await sim.send(.GET, query)
                #expect(page.status == 200)
                let json = try #require(page.json)
                let data = try #require(json["data"] as? [[String: Any]])
                seen += data.compactMap { $0["id"] as? String }
                let hasMore = try #require(json["has_more"] as? Bool)
                cursor = json["next_cursor"] as? String
                #expect(hasMore == (cursor != nil))
                #expect(json.keys.contains("next_cursor"))
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == ["mch_1", "mch_2", "mch_3", "mch_4", "mch_5"])

            let full = try await sim.send(.GET, "/v1/machines?view=full&cluster_id=cls_even")
            let data = try #require(full.json?["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["id"] as? String } == ["mch_2", "mch_4"])
            let first = try #require(data.first)
            for field in ["id", "workspace_id", "cluster_id", "compute_config_id", "provider_id", "provider_resource",
                          "node_name", "state", "reconciling", "created_at", "updated_at", "etag"] {
                #expect(first[field] != nil, "Machine.\(field)")
            }
            #expect((first["provider_resource"] as? [String: Any])?["floating_ip"] != nil)
            let basic = try await sim.send(.GET, "/v1/machines?limit=1")
            let basicFirst = try #require((basic.json?["data"] as? [[String: Any]])?.first)
            #expect((basicFirst["provider_resource"] as? [String: Any])?["floating_ip"] == nil)
            let suspended = try await sim.send(.GET, "/v1/machines?state=SUSPENDED")
            #expect((suspended.json?["data"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("report list pagination is newest first with cursor and state filter")
    func reportPagination() async throws {
        try await withSimulator { sim in
            var ids: [String] = []
            for index in 0..<5 {
                if index == 3 { try sim.server.control.setState(.drifted, machineID: "mch_a") }
                let created = try await sim.create("mch_a")
                ids.append(try #require(created.json?["id"] as? String))
            }
            var listed: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await sim.send(.GET, "/v1/machines/mch_a/drift_reports?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200)
                listed += (page.json?["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json?["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(listed == ids.reversed())

            let drifted = try await sim.send(.GET, "/v1/machines/mch_a/drift_reports?state=drifted")
            let driftedIDs = (drifted.json?["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(driftedIDs == [ids[4], ids[3]])
            #expect(drifted.json?["has_more"] as? Bool == false)
            #expect(drifted.json?["next_cursor"] is NSNull)
        }
    }
}
