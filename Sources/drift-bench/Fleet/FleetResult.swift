/// Every figure of one fleet size, as measured in one run (JSON under bench/results/).
struct FleetResult: Codable, Sendable {
    var machines: Int
    var randomMachines = 0

    // Start
    var readyColdSeconds: Double?
    var readyRestartSeconds: Double?

    // Memory
    /// VmRSS of the restarted daemon at the end of its idle window.
    var rssSteadyMiB: Double?
    var rssPerMachineKiB: Double?
    var rssAfterFirstRoundMiB: Double?
    /// The highest VmRSS sampled (every 200 ms) while every machine was due every second.
    var rssSaturationMiB: Double?
    /// The highest resident set of any akua-driftd process of this fleet run over its whole life: VmHWM
    /// read just before each stop, and ru_maxrss at its exit. The memory target applies to this figure.
    var rssPeakMiB: Double?

    // First round after a cold start (every machine overdue, catch-up window 1 s)
    var firstRoundSeconds: Double?
    var firstRoundChecksPerSecond: Double?

    // Saturation (every machine at a 1 s interval)
    var saturationChecksPerSecond: Double?
    var saturationOfferedPerSecond: Double?
    var saturationDaemonCPU: Double?
    var saturationSimCPU: Double?
    var reloadAllSeconds: Double?
    var wrk: [Wrk.Result] = []
    var wrkCeiling: Double?
    var ratio: Double?

    // Lag and delivery at a steady rate, 1,000 checks/s in `make bench` (in-process engine probe)
    /// From each occurrence's own instant (slot start or refresh time) to its request's start.
    var lagMs: Percentiles?
    var lagChecksPerSecond: Double?
    var lagIntervalSeconds: Double?
    var deliveryMs: Percentiles?

    // Idle (1 h interval)
    var idle: Idle?

    // Restart and reload without re-creating reports
    var restartUnexpectedReports: Int?
    var restartReportsCreated: Int?
    var reloadSighupToReadySeconds: Double?
    var reloadReloadingToReadySeconds: Double?
    var reloadUnexpectedReports: Int?
    var reloadReportsCreated: Int?

    /// Whole-life resource usage of each daemon process (wait4).
    var daemonLives: [Life] = []

    struct Idle: Codable, Sendable {
        var seconds: Double
        var cpuSeconds: Double
        var cpuSecondsPerMinute: Double
        /// Process wake-ups: bursts of thread activity (switches less than 1 ms apart are one burst),
        /// from perf; nil when perf is unavailable.
        var wakeupsPerMinute: Double?
        /// Thread context switches, every thread (perf), else summed over live threads (/proc).
        var contextSwitchesPerMinute: Double
        /// Sum over /proc/PID/task/*/status (live threads only), per minute, for comparison.
        var procContextSwitchesPerMinute: Double
        var checksPerMinute: Double
        var dueChecksPerMinute: Double
        var watchdogPingsPerMinute: Double
        var threads: Int
        /// Wake-ups per (check + watchdog ping).
        var wakeupsPerEvent: Double?
    }

    /// CPU per check at the low rate of the idle window (1 h interval): daemon CPU ÷ checks created, in µs.
    var cpuPerCheckUs: Double? {
        guard let idle, idle.checksPerMinute > 0 else { return nil }
        return idle.cpuSecondsPerMinute / idle.checksPerMinute * 1e6
    }

    /// What a user would write instead: a shell loop, one `curl` POST and one `jq` per machine, against the
    /// same simulator in the same run (CPU of the loop and its children, from wait4).
    var curlLoop: CurlLoop?

    struct CurlLoop: Codable, Sendable {
        var machines: Int
        var seconds: Double
        var cpuSeconds: Double
        var cpuPerMachineUs: Double
    }

    /// Daemon CPU per check ÷ the loop's CPU per machine.
    var cpuPerCheckRatio: Double? {
        guard let daemon = cpuPerCheckUs, let loop = curlLoop?.cpuPerMachineUs, loop > 0 else { return nil }
        return daemon / loop
    }

    /// The API client alone against the same simulator (`drift-bench client-probe`).
    var clientProbe: ClientProbeCommand.Result?

    struct Life: Codable, Sendable {
        var phase: String
        var cpuSeconds: Double
        var contextSwitches: Int
        var maxRSSMiB: Double
        var exitStatus: Int32
    }
}
