//! A small deterministic random generator (wyrand). The simulator's data must be the same for the same
//! `--seed` on every machine and every version, which a library RNG does not promise.

#[derive(Debug, Clone)]
pub struct Rng(u64);

const ALPHANUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Seeded from the operating system, for secrets such as a generated API token.
    pub fn from_os() -> Self {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).expect("the operating system has no random source");
        Rng(u64::from_le_bytes(b))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = (self.0 as u128).wrapping_mul((self.0 ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) ^ t) as u64
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `n` characters from `[0-9A-Za-z]`, the alphabet of Okta ids and tokens.
    pub fn alphanumeric(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| ALPHANUM[self.below(ALPHANUM.len() as u64) as usize] as char)
            .collect()
    }

    pub fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        // Version 4 and the RFC 4122 variant bits, so the value is a well-formed UUID.
        let hi = (hi & !0xF000) | 0x4000;
        let lo = (lo & !(0xC << 60)) | (0x8 << 60);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

/// Encodes `n` in a fixed width of `width` characters of `[0-9A-Za-z]`; ASCII order equals numeric
/// order, so ids built this way sort in creation order (the order Okta lists objects in).
pub fn sortable(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHANUM[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_well_formed() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.alphanumeric(20), b.alphanumeric(20));
        let u = a.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert!(sortable(61, 3) < sortable(62, 3));
        assert_eq!(sortable(0, 4), "0000");
        assert!((0..1000).all(|_| a.below(10) < 10));
    }
}
