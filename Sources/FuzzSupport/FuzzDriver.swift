import Foundation

#if FUZZING
// SwiftPM gives every executable its own entry point, so libFuzzer's `main` is not used: the
// fuzz targets hand over to libFuzzer's driver (LLVM's documented way to own `main`).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// Runs libFuzzer's driver on the process's arguments with `callback` as the test function and
/// exits with its status (builds with `-sanitize=fuzzer -DFUZZING`, see scripts/lib/fuzz.sh).
/// Without libFuzzer it prints `usage` and exits 0: such a build has nothing to run.
public func runFuzzer(usage: String, _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    #if FUZZING
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    #else
    print(usage)
    exit(0)
    #endif
}
