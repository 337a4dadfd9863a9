extension DeployCheck {
    /// Fails fast, before any expensive work, when a tool `run` needs is missing:
    /// `DeployToolError.toolMissing` names the tool and the Debian package that provides it.
    public static func requireToolchain(searchPath: String? = nil) throws {
        _ = try ToolRunner.require("arm-none-eabi-gcc", apt: "gcc-arm-none-eabi libnewlib-arm-none-eabi", searchPath: searchPath)
        _ = try ToolRunner.require("arm-none-eabi-size", apt: "binutils-arm-none-eabi", searchPath: searchPath)
        _ = try ToolRunner.require("arm-none-eabi-nm", apt: "binutils-arm-none-eabi", searchPath: searchPath)
        _ = try ToolRunner.require("qemu-system-arm", apt: "qemu-system-arm", searchPath: searchPath)
    }
}
