//! Float helpers that `core` lacks (it has no `f64::floor`), kept tiny for the wasm.

/// `f64::floor`, exact for every input (NaN and infinities pass through).
pub fn floor(x: f64) -> f64 {
    // From 2^52 up, every f64 is an integer.
    const INTEGRAL: f64 = 4_503_599_627_370_496.0;
    if !(x > -INTEGRAL && x < INTEGRAL) {
        return x;
    }
    // Truncation toward zero is exact below 2^52.
    let t = x as i64 as f64;
    if t == x {
        x
    } else if t > x {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_matches_std() {
        let values = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1.5,
            -1.5,
            3599.9,
            1_699_996_400.5,
            -1e300,
            1e300,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
        ];
        for v in values {
            assert_eq!(floor(v).to_bits(), v.floor().to_bits(), "{v}");
        }
        assert!(floor(f64::NAN).is_nan());
    }
}
