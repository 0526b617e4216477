//! Float helpers kept tiny for the wasm: `core` has no `f64::floor`, and its
//! `str::parse::<f64>` brings ~10 KB of tables and big-decimal code.

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

/// The value of a decimal literal that the JSON grammar already accepted
/// (`-?digits[.digits][(e|E)[+-]digits]`); out-of-range literals give ±infinity or ±0.
///
/// Correctly rounded (bit-identical to `str::parse::<f64>`) whenever the literal has at
/// most 19 significant digits and its decimal exponent is within ±27 of them, which
/// covers every `expires_in`, `exp` and `iat` a server sends; longer or more extreme
/// literals are within one unit in the last place.
pub fn parse_decimal(text: &str) -> f64 {
    let mut mantissa: u64 = 0;
    let mut kept: u32 = 0;
    let mut exp10: i64 = 0;
    let mut inexact = false;
    let mut after_dot = false;
    let mut bytes = text.bytes();
    let negative = text.starts_with('-');
    for b in bytes.by_ref() {
        match b {
            b'0'..=b'9' => {
                let digit = u64::from(b - b'0');
                if kept < 19 {
                    mantissa = mantissa * 10 + digit;
                    if mantissa != 0 {
                        kept += 1;
                    }
                    if after_dot {
                        exp10 -= 1;
                    }
                } else {
                    // Beyond 19 digits only the magnitude and "not exact" matter.
                    inexact |= digit != 0;
                    if !after_dot {
                        exp10 += 1;
                    }
                }
            }
            b'.' => after_dot = true,
            b'e' | b'E' => break,
            _ => {}
        }
    }
    let mut exponent: i64 = 0;
    let mut exponent_negative = false;
    for b in bytes {
        match b {
            b'-' => exponent_negative = true,
            // Saturates far beyond any finite result.
            b'0'..=b'9' => exponent = (exponent * 10 + i64::from(b - b'0')).min(1_000_000),
            _ => {}
        }
    }
    exp10 += if exponent_negative {
        -exponent
    } else {
        exponent
    };
    let magnitude = decimal_to_f64(mantissa, exp10, inexact);
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// `10^k` for `k <= 22`, every one exact in an f64.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `mantissa * 10^exp10` (plus a little when `inexact`), rounded to nearest.
fn decimal_to_f64(mantissa: u64, exp10: i64, inexact: bool) -> f64 {
    if mantissa == 0 || exp10 < -400 {
        return 0.0;
    }
    if exp10 > 308 {
        return f64::INFINITY;
    }
    // Clinger's fast path: both operands exact, so one correctly rounded operation.
    if !inexact && mantissa <= 1 << 53 {
        if let Some(&power) = usize::try_from(exp10.unsigned_abs())
            .ok()
            .and_then(|k| EXACT_POWERS.get(k))
        {
            let m = mantissa as f64;
            return if exp10 < 0 { m / power } else { m * power };
        }
    }
    // Otherwise: 64-bit fixed point. `power` is exact up to 10^27, so the product or
    // quotient, with a sticky bit for what was cut off, rounds correctly when it is
    // converted to f64.
    let shift = mantissa.leading_zeros();
    let w = u128::from(mantissa << shift);
    let (power, power_exp) = pow10(exp10.unsigned_abs());
    let power = u128::from(power);
    let (bits, bin_exp) = if exp10 >= 0 {
        let product = w * power;
        let sticky = (product as u64) != 0;
        (
            ((product >> 64) as u64) | u64::from(sticky | inexact),
            64 + power_exp - i64::from(shift),
        )
    } else {
        // w < 2^64 and power >= 2^63, so the quotient fits in 64 bits.
        let numerator = w << 63;
        let quotient = numerator / power;
        let sticky = numerator % power != 0;
        (
            (quotient as u64) | u64::from(sticky | inexact),
            -63 - power_exp - i64::from(shift),
        )
    };
    scale_by_power_of_two(bits as f64, bin_exp)
}

/// `10^k` as `m * 2^e` with the top bit of `m` set; exact for `k <= 27` (5^27 < 2^64).
fn pow10(mut k: u64) -> (u64, i64) {
    let mut m: u64 = 1 << 63;
    let mut e: i64 = -63;
    while k > 0 {
        let step = k.min(27);
        // 5^step <= 5^27 < 2^64: no wrap.
        let five = 5u64.wrapping_pow(step as u32);
        let product = u128::from(m) * u128::from(five);
        let zeros = product.leading_zeros();
        let normalized = product << zeros;
        let mut hi = (normalized >> 64) as u64;
        // Round half up, unless that would carry out of 64 bits.
        if (normalized >> 63) & 1 == 1 && hi != u64::MAX {
            hi += 1;
        }
        m = hi;
        e += step as i64 + 64 - i64::from(zeros);
        k -= step;
    }
    (m, e)
}

/// `x * 2^e`, in steps so that no intermediate power of two overflows.
fn scale_by_power_of_two(mut x: f64, mut e: i64) -> f64 {
    const STEP: i64 = 1000;
    let power = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    while e > STEP {
        x *= power(STEP);
        e -= STEP;
    }
    while e < -STEP {
        x *= power(-STEP);
        e += STEP;
    }
    x * power(e)
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

    fn check(text: &str) {
        let std: f64 = text.parse().unwrap();
        let ours = parse_decimal(text);
        assert_eq!(ours.to_bits(), std.to_bits(), "{text}: {ours:e} != {std:e}");
    }

    fn close(text: &str) {
        let std: f64 = text.parse().unwrap();
        let ours = parse_decimal(text);
        let ulps = (ours.to_bits() as i64 - std.to_bits() as i64).abs();
        assert!(ulps <= 1, "{text}: {ours:e} vs {std:e}");
    }

    #[test]
    fn literals_from_token_responses_are_exact() {
        for text in [
            "0",
            "-0",
            "0.0",
            "1",
            "-1",
            "3600",
            "3599.9",
            "0.5",
            "0.01",
            "1e-2",
            "-12.5e2",
            "1E+2",
            "1700000000",
            "1699996400.5",
            "1699996400.123",
            "9007199254740993",
            "18446744073709551615",
            "1e22",
            "1e23",
            "1e308",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "4.9e-324",
            "1e-320",
            "123456789012345678e-27",
            "0.000000000000000000000000000001",
            "31536000",
            "31536001",
            "0.1",
            "0.3",
            "2.5e-3",
            "1e300",
            "1e-300",
            "5e-324",
            "1e12",
            "1e13",
        ] {
            check(text);
        }
        for text in ["1e400", "-1e400", "1e999", "1e1000000000000000000000"] {
            check(text);
        }
        for text in ["1e-400", "-1e-400", "0e999999", "1e-99999999999999999999"] {
            check(text);
        }
    }

    #[test]
    fn random_literals_match_std() {
        // xorshift: deterministic and dependency-free.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let digits = 1 + next() % 25;
            let mut text = String::new();
            if next() % 2 == 0 {
                text.push('-');
            }
            let dot = next() % (digits + 1);
            for i in 0..digits {
                if i == dot && i > 0 {
                    text.push('.');
                }
                text.push(char::from(b'0' + (next() % 10) as u8));
            }
            let exp = (next() % 700) as i64 - 350;
            if next() % 3 != 0 {
                text.push('e');
                text.push_str(&exp.to_string());
            }
            let significant = text
                .bytes()
                .take_while(|b| *b != b'e')
                .filter(u8::is_ascii_digit)
                .skip_while(|b| *b == b'0')
                .count();
            let std: f64 = text.parse().unwrap();
            let in_exact_range = significant <= 19
                && (std == 0.0
                    || std.is_infinite()
                    || (std.abs() >= f64::MIN_POSITIVE && (1e-27..=1e46).contains(&std.abs())));
            if in_exact_range {
                check(&text);
            } else {
                close(&text);
            }
        }
    }
}
