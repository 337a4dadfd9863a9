import TinyForgeSpec
/// TinyForgeHardware: MCU targets, lowering to `LayerPlan`, cost model, memory planner.
public enum TinyForgeHardwareInfo {
    public static let specFormat = TinyForgeSpecInfo.formatVersion
}
