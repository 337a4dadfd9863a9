/// Exact SHAP values of tree models (Lundberg, Erion & Lee 2018, "Consistent individualized
/// feature attribution for tree ensembles", Algorithm 2: path-dependent TreeSHAP).
///
/// The value of a feature coalition S is E[f(x) | x_S] where features outside S are
/// integrated out by following both children weighted by training cover. Algorithm 2 gets
/// the Shapley values of that game in O(leaves · depth²) by tracking, along each root-to-leaf
/// path, the weight of every coalition size. `bruteForce` computes the same game by summing
/// over all 2^M coalitions; the tests hold the fast one to it.
public enum TreeSHAP {
    /// One element of the unique-feature path: feature, fraction of zero paths (feature
    /// absent: cover ratio) and one paths (feature present: 1 if x goes this way), weight.
    struct PathElement { var d: Int; var z: Double; var o: Double; var w: Double }

    /// φ for one tree; Σφ = f(x) − tree.expectedValue.
    public static func values(_ t: RegressionTree, x: [Double], featureCount: Int) -> [Double] {
        var phi = [Double](repeating: 0, count: featureCount)
        recurse(t, x, node: 0, path: [], pz: 1, po: 1, pi: -1, phi: &phi)
        return phi
    }

    /// φ for a boosted ensemble (sum over trees); Σφ = f(x) − model.expectedValue.
    public static func values(_ m: BoostedTrees, x: [Double]) -> [Double] {
        var phi = [Double](repeating: 0, count: m.featureCount)
        for t in m.trees {
            recurse(t, x, node: 0, path: [], pz: 1, po: 1, pi: -1, phi: &phi)
        }
        return phi
    }

    static func recurse(_ t: RegressionTree, _ x: [Double], node j: Int, path: [PathElement],
                        pz: Double, po: Double, pi: Int, phi: inout [Double]) {
        var m = extend(path, pz: pz, po: po, pi: pi)
        if t.isLeaf(j) {
            for i in 1..<m.count {
                let w = unwind(m, i).reduce(0.0) { $0 + $1.w }
                phi[m[i].d] += w * (m[i].o - m[i].z) * t.value[j]
            }
            return
        }
        let d = t.feature[j]
        let (hot, cold) = x[d] <= t.threshold[j] ? (t.left[j], t.right[j]) : (t.right[j], t.left[j])
        var iz = 1.0, io = 1.0
        if let k = m.firstIndex(where: { $0.d == d }), k > 0 {
            iz = m[k].z; io = m[k].o
            m = unwind(m, k)
        }
        let rj = t.cover[j]
        recurse(t, x, node: hot, path: m, pz: iz * t.cover[hot] / rj, po: io, pi: d, phi: &phi)
        recurse(t, x, node: cold, path: m, pz: iz * t.cover[cold] / rj, po: 0, pi: d, phi: &phi)
    }

    /// Adds a feature to the path, updating the coalition-size weights.
    static func extend(_ path: [PathElement], pz: Double, po: Double, pi: Int) -> [PathElement] {
        var m = path
        let l = m.count
        m.append(PathElement(d: pi, z: pz, o: po, w: l == 0 ? 1 : 0))
        var i = l - 1
        while i >= 0 {
            m[i + 1].w += po * m[i].w * Double(i + 1) / Double(l + 1)
            m[i].w = pz * m[i].w * Double(l - i) / Double(l + 1)
            i -= 1
        }
        return m
    }

    /// Removes element `i` from the path, undoing its `extend`.
    static func unwind(_ path: [PathElement], _ i: Int) -> [PathElement] {
        var m = path
        let l = m.count - 1
        var n = m[l].w
        var j = l - 1
        while j >= 0 {
            if m[i].o != 0 {
                let t = m[j].w
                m[j].w = n * Double(l + 1) / (Double(j + 1) * m[i].o)
                n = t - m[j].w * m[i].z * Double(l - j) / Double(l + 1)
            } else {
                m[j].w = m[j].w * Double(l + 1) / (m[i].z * Double(l - j))
            }
            j -= 1
        }
        for k in i..<l { m[k].d = m[k + 1].d; m[k].z = m[k + 1].z; m[k].o = m[k + 1].o }
        m.removeLast()
        return m
    }

    // MARK: - Reference twin

    /// E[f(x) | x_S]: features in S follow x, the others average both children by cover.
    public static func conditionalExpectation(_ t: RegressionTree, x: [Double], known: Set<Int>, node: Int = 0) -> Double {
        if t.isLeaf(node) { return t.value[node] }
        let d = t.feature[node]
        if known.contains(d) {
            return conditionalExpectation(t, x: x, known: known, node: x[d] <= t.threshold[node] ? t.left[node] : t.right[node])
        }
        let l = t.left[node], r = t.right[node]
        return (t.cover[l] * conditionalExpectation(t, x: x, known: known, node: l)
            + t.cover[r] * conditionalExpectation(t, x: x, known: known, node: r)) / t.cover[node]
    }

    /// Shapley values by enumerating all coalitions (2^M · M evaluations; M ≤ ~14).
    public static func bruteForce(_ m: BoostedTrees, x: [Double]) -> [Double] {
        let mcount = m.featureCount
        precondition(mcount <= 20, "bruteForce enumerates 2^M coalitions; M = \(mcount) is too many")
        var fact = [1.0]
        for k in 1...max(mcount, 1) { fact.append(fact[k - 1] * Double(k)) }
        var v = [Double](repeating: 0, count: 1 << mcount)
        for mask in 0..<(1 << mcount) {
            let s = Set((0..<mcount).filter { mask & (1 << $0) != 0 })
            v[mask] = m.trees.reduce(m.base) { $0 + conditionalExpectation($1, x: x, known: s) }
        }
        var phi = [Double](repeating: 0, count: mcount)
        for i in 0..<mcount {
            for mask in 0..<(1 << mcount) where mask & (1 << i) == 0 {
                let size = mask.nonzeroBitCount
                let w = fact[size] * fact[mcount - size - 1] / fact[mcount]
                phi[i] += w * (v[mask | (1 << i)] - v[mask])
            }
        }
        return phi
    }
}
