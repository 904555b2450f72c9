import TOMLKit

extension ConfigValidator {
    /// `[log] level`: one of `LogSettings.levels`.
    mutating func validateLog(_ table: TOMLTable) -> LogSettings {
        let path: TOMLPath = [.key("log")]
        checkKeys(table, path: path, known: ConfigSchema.log)
        var log = LogSettings()
        if let level = string(table, path, "level") {
            if LogSettings.levels.contains(level) {
                log.level = level
            } else {
                sink.error(
                    path.appending("level"),
                    "unknown level \(TOMLPathFormat.quoted(level)) (use one of: \(LogSettings.levels.joined(separator: ", ")))")
            }
        }
        return log
    }
}
