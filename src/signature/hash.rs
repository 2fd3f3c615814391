//! The hash methods an image may be signed over, and a streaming hasher.

use std::io;

use sha2::Digest;

use super::SignatureError;

/// `img_signature_hash_method`: the hash the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashMethod {
    /// `SHA-224`.
    Sha224,
    /// `SHA-256`.
    Sha256,
    /// `SHA-384`.
    Sha384,
    /// `SHA-512`.
    Sha512,
}

impl HashMethod {
    /// Every hash method cursive accepts.
    pub const ALL: [HashMethod; 4] = [
        HashMethod::Sha224,
        HashMethod::Sha256,
        HashMethod::Sha384,
        HashMethod::Sha512,
    ];

    /// The property value naming this method, e.g. `SHA-256`.
    pub fn name(self) -> &'static str {
        match self {
            HashMethod::Sha224 => "SHA-224",
            HashMethod::Sha256 => "SHA-256",
            HashMethod::Sha384 => "SHA-384",
            HashMethod::Sha512 => "SHA-512",
        }
    }

    /// Parses a property value, exactly as cursive does (`sha256` is unknown).
    ///
    /// # Errors
    /// [`SignatureError::UnknownHashMethod`].
    pub fn from_name(name: &str) -> Result<Self, SignatureError> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| SignatureError::UnknownHashMethod(name.to_string()))
    }

    /// The digest's length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashMethod::Sha224 => 28,
            HashMethod::Sha256 => 32,
            HashMethod::Sha384 => 48,
            HashMethod::Sha512 => 64,
        }
    }

    /// A fresh hasher for this method.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            HashMethod::Sha224 => Inner::Sha224(sha2::Sha224::new()),
            HashMethod::Sha256 => Inner::Sha256(sha2::Sha256::new()),
            HashMethod::Sha384 => Inner::Sha384(sha2::Sha384::new()),
            HashMethod::Sha512 => Inner::Sha512(sha2::Sha512::new()),
        })
    }

    /// Hashes everything `reader` yields (e.g. an image file, in a test).
    ///
    /// # Errors
    /// The reader's.
    pub fn digest_reader(self, mut reader: impl io::Read) -> io::Result<Vec<u8>> {
        let mut hasher = self.hasher();
        io::copy(&mut reader, &mut hasher)?;
        Ok(hasher.finalize())
    }
}

/// A running hash of an image, for [`verify_digest`](super::verify_digest):
/// feed it the image's bytes as they stream ([`update`](Hasher::update) or
/// [`io::Write`]), then [`finalize`](Hasher::finalize).
#[derive(Clone)]
pub struct Hasher(Inner);

#[derive(Clone)]
enum Inner {
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Hasher").field(&self.method()).finish()
    }
}

impl Hasher {
    /// The method this hasher computes.
    pub fn method(&self) -> HashMethod {
        match self.0 {
            Inner::Sha224(_) => HashMethod::Sha224,
            Inner::Sha256(_) => HashMethod::Sha256,
            Inner::Sha384(_) => HashMethod::Sha384,
            Inner::Sha512(_) => HashMethod::Sha512,
        }
    }

    /// Adds `data` to the hash.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            Inner::Sha224(h) => h.update(data),
            Inner::Sha256(h) => h.update(data),
            Inner::Sha384(h) => h.update(data),
            Inner::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything added.
    pub fn finalize(self) -> Vec<u8> {
        match self.0 {
            Inner::Sha224(h) => h.finalize().to_vec(),
            Inner::Sha256(h) => h.finalize().to_vec(),
            Inner::Sha384(h) => h.finalize().to_vec(),
            Inner::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

impl io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_has_its_name_and_length() {
        for method in HashMethod::ALL {
            assert_eq!(HashMethod::from_name(method.name()), Ok(method));
            let digest = method.digest_reader(&b"abc"[..]).unwrap_or_default();
            assert_eq!(digest.len(), method.output_len(), "{method:?}");
        }
        assert!(HashMethod::from_name("sha256").is_err());
        assert!(HashMethod::from_name("SHA-1").is_err());
    }

    #[test]
    fn sha256_of_abc_is_the_fips_vector() {
        let digest = HashMethod::Sha256
            .digest_reader(&b"abc"[..])
            .unwrap_or_default();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
