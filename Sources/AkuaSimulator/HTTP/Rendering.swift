/// Deterministic, plausible Hetzner-style machine attributes derived from a machine id, and the
/// JSON rendering of machines and drift reports (delta and provider snapshot included).
struct MachineProfile {
    static let images = ["ubuntu-24.04", "ubuntu-22.04", "debian-12", "rocky-9"]
    static let cpus: [Int64] = [2, 4, 8, 16]
    static let serverTypes = ["cx22", "cx32", "cx42", "cx52"]
    static let roles = ["web", "api", "db", "worker"]
    static let envs = ["prod", "staging"]
    static let datacenters = ["fsn1-dc14", "nbg1-dc3", "hel1-dc2", "ash-dc1"]

    let imageIndex: Int
    let cpuIndex: Int
    let role: String
    let env: String
    let datacenter: String
    let serverID: Int64
    let ipv4: String
    let floatingIPv4: String

    init(machineID: String) {
        let h = SplitMix64.stableHash(machineID)
        imageIndex = Int(h % 4)
        cpuIndex = Int((h >> 8) % 4)
        role = Self.roles[Int((h >> 16) % 4)]
        env = Self.envs[Int((h >> 24) % 2)]
        datacenter = Self.datacenters[Int((h >> 28) % 4)]
        serverID = 10_000_000 + Int64((h >> 32) % 89_999_999)
        ipv4 = "203.0.113.\((h >> 40) % 254 + 1)"
        floatingIPv4 = "198.51.100.\((h >> 48) % 254 + 1)"
    }

    var image: String { Self.images[imageIndex] }
    var cpu: Int64 { Self.cpus[cpuIndex] }
    var memoryMB: Int64 { cpu * 2048 }
    var firewall: String { "fw-\(role)" }
    var labels: SimJSON { .object([("env", .string(env)), ("role", .string(role))]) }
}

enum Rendering {
    static let driftAttributes = ["image", "cpu", "memory_mb", "labels", "firewall"]

    /// 1.1 MiB of padding for the oversized fault, built once.
    static let oversizedPadding = String(repeating: "A", count: 1_100_000)

    /// The (desired, actual) pairs of a report's delta: empty when in sync, 1-4 attributes when drifted.
    static func delta(for report: StoredReport, profile: MachineProfile) -> [(String, SimJSON, SimJSON)] {
        guard report.state == .drifted else { return [] }
        var rng = SplitMix64(seed: report.variant)
        let count = 1 + Int(rng.next() % 4)
        var pool = Array(driftAttributes.indices)
        var chosen: [Int] = []
        if let pinned = report.pinnedAttributes {
            chosen = pinned.compactMap { driftAttributes.firstIndex(of: $0) }
        } else {
            for _ in 0..<count {
                let pick = Int(rng.next() % UInt64(pool.count))
                chosen.append(pool.remove(at: pick))
            }
        }
        chosen.sort()
        return chosen.map { index in
            let name = driftAttributes[index]
            let shift = 1 + Int(rng.next() % 3)
            switch name {
            case "image":
                let actual = MachineProfile.images[(profile.imageIndex + shift) % 4]
                return (name, .string(profile.image), .string(actual))
            case "cpu":
                let actual = MachineProfile.cpus[(profile.cpuIndex + shift) % 4]
                return (name, .int(profile.cpu), .int(actual))
            case "memory_mb":
                let actual = rng.next() % 2 == 0 ? profile.memoryMB * 2 : profile.memoryMB / 2
                return (name, .int(profile.memoryMB), .int(actual))
            case "labels":
                let actual: SimJSON =
                    rng.next() % 2 == 0
                    ? .object([("env", .string(profile.env == "prod" ? "staging" : "prod")), ("role", .string(profile.role))])
                    : .object([("debug", .string("true")), ("env", .string(profile.env)), ("role", .string(profile.role))])
                return (name, profile.labels, actual)
            default:
                let actual = rng.next() % 2 == 0 ? "fw-legacy-open" : "fw-default"
                return (name, .string(profile.firewall), .string(actual))
            }
        }
    }

    /// A report's body as the simulator sends it: the schema's JSON, corrupted by `fault` when given, and
    /// with odd (optional omitted or null, unknown added) fields when the report has them. Deterministic.
    static func report(_ report: StoredReport, fault: BodyFault? = nil) -> String {
        switch fault {
        case nil: return json(report)
        case .missingState: return json(report, state: .missing)
        case .unknownState: return json(report, state: .unknown)
        case .oversized: return json(report, oversized: true)
        case .malformed:
            // Half a document, then garbage: what a proxy cutting an upstream answer produces.
            let full = json(report)
            return String(decoding: full.utf8.prefix(full.utf8.count / 2), as: UTF8.self) + "\u{0}<!-- upstream error"
        }
    }

    /// How to render `state` (the missing/unknown state faults change it).
    enum StateRendering {
        case normal
        case missing
        case unknown
    }

    /// What the odd-fields variant of a report does with an optional member.
    enum OptionalMember {
        case omit, null, present

        init(_ bits: UInt64) {
            self = [.omit, .null, .present][Int(bits % 3)]
        }
    }

    /// The drift report JSON (Akua's DriftReport schema).
    static func json(_ report: StoredReport, state rendering: StateRendering = .normal, oversized: Bool = false) -> String {
        let profile = MachineProfile(machineID: report.machineID)
        let delta = delta(for: report, profile: profile)
        var actual: [String: SimJSON] = [:]
        for (name, _, value) in delta { actual[name] = value }
        let oddBits = SplitMix64.mix(report.variant ^ 0x0DDF_1E1D)
        let deltaMember = report.oddFields ? OptionalMember(oddBits) : .present
        let snapshotMember = report.oddFields ? OptionalMember(oddBits >> 8) : .present

        var w = JSONWriter(capacity: 900)
        w.beginObject()
        w.key("id"); w.string(report.id)
        w.key("machine_id"); w.string(report.machineID)
        switch rendering {
        case .normal: w.key("state"); w.string(report.state.rawValue)
        case .missing: break
        case .unknown: w.key("state"); w.string("exploded")
        }
        w.key("etag"); w.string(report.etag)
        w.key("created_at"); w.int(report.createdAt)
        w.key("started_at"); w.int(report.startedAt)
        w.key("expires_at"); w.int(report.expiresAt)
        switch deltaMember {
        case .omit: break
        case .null: w.key("delta"); w.null()
        case .present:
            w.key("delta")
            w.beginObject()
            for (name, desired, actualValue) in delta {
                w.key(name)
                w.beginObject()
                w.key("desired"); w.value(desired)
                w.key("actual"); w.value(actualValue)
                w.endObject()
            }
            w.endObject()
        }
        switch snapshotMember {
        case .omit: break
        case .null: w.key("provider_snapshot"); w.null()
        case .present:
            w.key("provider_snapshot")
            w.beginObject()
            w.key("provider"); w.string("hcloud")
            if report.oddFields {
                w.key("fetched_at"); w.int(report.createdAt)
            }
            w.key("raw_attrs")
            w.beginObject()
            w.key("id"); w.int(profile.serverID)
            w.key("name"); w.string(report.machineName)
            let cpuValue = actual["cpu"] ?? .int(profile.cpu)
            var serverType = MachineProfile.serverTypes[profile.cpuIndex]
            if case .int(let cpu) = cpuValue, let index = MachineProfile.cpus.firstIndex(of: cpu) {
                serverType = MachineProfile.serverTypes[index]
            }
            w.key("server_type"); w.string(serverType)
            w.key("datacenter"); w.string(profile.datacenter)
            w.key("status"); w.string("running")
            w.key("image"); w.value(actual["image"] ?? .string(profile.image))
            w.key("cpu"); w.value(cpuValue)
            w.key("memory_mb"); w.value(actual["memory_mb"] ?? .int(profile.memoryMB))
            w.key("labels"); w.value(actual["labels"] ?? profile.labels)
            w.key("firewall"); w.value(actual["firewall"] ?? .string(profile.firewall))
            w.key("public_ipv4"); w.string(profile.ipv4)
            if report.oddFields {
                // Integers beyond 2^53 (and beyond Int64) that a client must keep digit for digit.
                w.key("volume_id"); w.raw(oddVolumeID)
                w.key("serial"); w.raw(oddSerial)
            }
            if oversized {
                w.key("user_data"); w.string(oversizedPadding)
            }
            w.endObject()
            w.endObject()
        }
        if report.oddFields {
            w.key("schema_revision"); w.int(2)
            w.key("x_sim")
            w.beginObject()
            w.key("trace"); w.string(ReportIDs.hex16(oddBits))
            w.key("max_int"); w.raw(oddMaxInt)
            w.key("mixed"); w.value(.array([.null, .bool(true), .double(0.5), .string("é💥")]))
            w.endObject()
        }
        if oversized && snapshotMember != .present {
            w.key("x_padding"); w.string(oversizedPadding)
        }
        w.endObject()
        return w.output
    }

    /// Unknown-field integers of odd reports: 2^53 + 1, UInt64.max and Int64.max.
    static let oddVolumeID = "9007199254740993"
    static let oddSerial = "18446744073709551615"
    static let oddMaxInt = "9223372036854775807"

    /// The Machine JSON (Akua's Machine schema, every required field). `full` adds the floating IP.
    static func machine(_ machine: MachineSnapshot, full: Bool, into w: inout JSONWriter) {
        let profile = MachineProfile(machineID: machine.id)
        w.beginObject()
        w.key("id"); w.string(machine.id)
        w.key("workspace_id"); w.string(machine.workspaceID)
        w.key("cluster_id"); w.string(machine.clusterID)
        w.key("compute_config_id"); w.string("cc_sim_" + MachineProfile.serverTypes[profile.cpuIndex])
        w.key("provider_id"); w.string("compute://hcloud/server-\(profile.serverID)")
        w.key("provider_resource")
        w.beginObject()
        w.key("identity_kind"); w.string("persistent")
        w.key("public_ip"); w.string(profile.ipv4)
        if full {
            w.key("floating_ip")
            w.beginObject()
            w.key("id"); w.string("fip_\(profile.serverID)")
            w.key("ipv4"); w.string(profile.floatingIPv4)
            w.endObject()
        }
        w.endObject()
        w.key("name"); w.string(machine.name)
        w.key("node_name"); w.string(machine.name)
        w.key("state"); w.string("ACTIVE")
        w.key("reconciling"); w.bool(false)
        w.key("created_at"); w.int(machine.createdAt)
        w.key("updated_at"); w.int(machine.updatedAt)
        w.key("etag"); w.string(ReportIDs.hex16(SplitMix64.mix(SplitMix64.stableHash(machine.id) ^ UInt64(bitPattern: machine.updatedAt))))
        w.endObject()
    }
}
