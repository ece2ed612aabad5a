//! The digests the platforms sign with, from the RustCrypto crates.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// MD5 of `data`.
pub(crate) fn md5(data: &[u8]) -> Vec<u8> {
    Md5::digest(data).to_vec()
}

/// HMAC-MD5 of `data` under `key`.
pub(crate) fn hmac_md5(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(key) else { unreachable!("HMAC takes keys of any length") };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// An HMAC-SHA256 in progress, fed piece by piece.
pub(crate) fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(key) else { unreachable!("HMAC takes keys of any length") };
    mac
}

/// Upper-case hex, as Taobao and Pinduoduo compare signs.
pub(crate) fn upper_hex(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}
