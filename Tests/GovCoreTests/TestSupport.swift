import GovCore

/// The code of the error thrown by `body` (`"<not GovError>"` for a foreign error), or nil when it does not throw.
func thrownCode<T>(_ body: () throws -> T) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as GovError {
        return error.code
    } catch {
        return "<not GovError>"
    }
}
