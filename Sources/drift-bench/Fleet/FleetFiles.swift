import Foundation

/// The files of one fleet run: token and webhook secret, the simulator scenario, and daemon configs.
struct FleetFiles {
    let directory: String
    let machines: Int
    /// Machines with a random state per report (they cause transitions and webhook deliveries).
    let randomMachines: Int
    let token = "sk_akua_bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

    init(directory: String, machines: Int) throws {
        self.directory = directory
        self.machines = machines
        randomMachines = max(2, machines / 50)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try write("token", token)
        try write("webhook-secret", secret)
        var scenario = "{\"seed\": 7, \"machines\": [\n"
        scenario += (1...randomMachines).map { index in
            "{\"id\": \"\(Self.randomID(index))\", \"name\": \"rnd-\(index)\", \"random\": {\"seed\": \(index), \"p_drifted\": 0.5}}"
        }.joined(separator: ",\n")
        scenario += "\n]}\n"
        try write("scenario.json", scenario)
    }

    /// Fixed-state machines are the simulator's generated `mch_sim_000001...`.
    var fixedMachines: Int { machines - randomMachines }
    static let fixedPrefix = "mch_sim_"
    static func fixedID(_ index: Int) -> String { fixedPrefix + pad(index) }
    static func randomID(_ index: Int) -> String { "mch_rnd_" + pad(index) }
    private static func pad(_ index: Int) -> String {
        let digits = String(index)
        return digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// Every machine id of the fleet, in config order.
    var machineIDs: [String] {
        (1...fixedMachines).map(Self.fixedID) + (1...randomMachines).map(Self.randomID)
    }

    var scenarioPath: String { directory + "/scenario.json" }

    /// A daemon config: every machine at `interval` except `overrides` (id -> interval).
    func writeConfig(
        _ name: String, baseURL: String, webhookURL: String, interval: String, catchUpWindow: String,
        maxInFlight: Int, statePath: String, overrides: [String: String] = [:]
    ) throws -> String {
        var text = """
            # drift-bench: \(machines) machines, interval \(interval)
            [api]
            base_url = "\(baseURL)"
            token_file = "\(directory)/token"
            max_in_flight = \(maxInFlight)
            timeout = "10s"

            [schedule]
            interval = "\(interval)"
            refresh_before_expiry = "1m"
            catch_up_window = "\(catchUpWindow)"

            [state]
            path = "\(statePath)"

            [[webhook]]
            url = "\(webhookURL)"
            secret_file = "\(directory)/webhook-secret"
            name = "bench"


            """
        text.reserveCapacity(machines * 60)
        for id in machineIDs {
            text += "[[machine]]\nid = \"\(id)\"\nname = \"\(id.dropFirst(4))\"\n"
            if let override = overrides[id] { text += "interval = \"\(override)\"\n" }
        }
        let path = directory + "/" + name
        // Write then rename, as an editor or config management would: a reload never sees half a file.
        try write(name + ".tmp", text, mode: 0o644)
        guard rename(path + ".tmp", path) == 0 else { throw BenchError("cannot rename \(path).tmp") }
        return path
    }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw BenchError("cannot write \(path)")
        }
        return path
    }
}
