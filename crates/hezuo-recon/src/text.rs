//! Which text encoding a statement uses, decided from a prefix, and decoding of single fields.
//!
//! The CSV layer works on raw bytes: in both UTF-8 and GBK (GB 18030) every byte of a
//! multi-byte character is ≥ 0x30 and never `,`, `"`, `#`, CR or LF, so records can be split
//! before decoding. Only the fields we use are then decoded, one at a time, which streams
//! without any decoded copy of the file.

use encoding_rs::{DecoderResult, GBK};
use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, Read};

/// How much of the input is inspected to choose the encoding.
pub(crate) const SNIFF_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Gbk,
    /// Only ASCII so far and the file is longer than the sniffed prefix: the first field
    /// that is not ASCII decides.
    Undecided,
}

/// The start of the input and what it says about the encoding.
pub(crate) struct Sniffed {
    pub prefix: Vec<u8>,
    /// Where the text starts in `prefix` (after a BOM).
    pub start: usize,
    /// `None` when the prefix is neither UTF-8 nor GBK.
    pub encoding: Option<Encoding>,
}

pub(crate) fn sniff<R: Read>(input: &mut R) -> io::Result<Sniffed> {
    let mut prefix = vec![0; SNIFF_LEN];
    let mut filled = 0;
    let mut eof = false;
    while filled < SNIFF_LEN {
        match input.read(&mut prefix[filled..]) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    prefix.truncate(filled);
    if prefix.starts_with(b"\xEF\xBB\xBF") {
        let encoding = utf8_prefix(&prefix[3..], eof).map(|_| Encoding::Utf8);
        return Ok(Sniffed { prefix, start: 3, encoding });
    }
    let encoding = match utf8_prefix(&prefix, eof) {
        Some(valid) if !valid.is_ascii() || eof => Some(Encoding::Utf8),
        Some(_) => Some(Encoding::Undecided),
        None if gbk_prefix(&prefix, eof) => Some(Encoding::Gbk),
        None => None,
    };
    Ok(Sniffed { prefix, start: 0, encoding })
}

/// The valid UTF-8 part of `bytes` when all of it is UTF-8, allowing a character cut at the
/// end of the prefix when the input goes on.
fn utf8_prefix(bytes: &[u8], eof: bool) -> Option<&[u8]> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Some(bytes),
        Err(e) if e.error_len().is_none() && !eof => Some(&bytes[..e.valid_up_to()]),
        Err(_) => None,
    }
}

fn gbk_prefix(bytes: &[u8], eof: bool) -> bool {
    let mut decoder = GBK.new_decoder_without_bom_handling();
    let mut out = [0u8; 4096];
    let mut src = bytes;
    loop {
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(src, &mut out, eof);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => return true,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(..) => return false,
        }
    }
}

/// Decodes fields in the file's encoding.
pub(crate) struct Text(Cell<Encoding>);

impl Text {
    pub fn new(encoding: Encoding) -> Text {
        Text(Cell::new(encoding))
    }

    /// The field as text, or `None` when its bytes are not valid in the file's encoding.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        if bytes.is_ascii() {
            return std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
        }
        match self.0.get() {
            Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            Encoding::Gbk => GBK.decode_without_bom_handling_and_without_replacement(bytes),
            Encoding::Undecided => {
                if let Ok(s) = std::str::from_utf8(bytes) {
                    self.0.set(Encoding::Utf8);
                    Some(Cow::Borrowed(s))
                } else {
                    let s = GBK.decode_without_bom_handling_and_without_replacement(bytes)?;
                    self.0.set(Encoding::Gbk);
                    Some(s)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding_of(bytes: &[u8]) -> Option<Encoding> {
        sniff(&mut &bytes[..]).unwrap().encoding
    }

    #[test]
    fn sniffs_utf8_bom_gbk_and_junk() {
        assert_eq!(encoding_of("名称".as_bytes()), Some(Encoding::Utf8));
        assert_eq!(encoding_of(b"\xEF\xBB\xBFabc"), Some(Encoding::Utf8));
        assert_eq!(encoding_of(b"abc"), Some(Encoding::Utf8));
        assert_eq!(encoding_of(&GBK.encode("收入金额").0), Some(Encoding::Gbk));
        assert_eq!(encoding_of(b"\xff\xfe\x00a"), None);
        assert_eq!(encoding_of(b"\xEF\xBB\xBF\xff"), None);
        assert_eq!(encoding_of(b""), Some(Encoding::Utf8));
    }

    #[test]
    fn a_character_cut_by_the_prefix_is_not_an_error() {
        let mut text = format!("名{}", "a".repeat(SNIFF_LEN - 4)).into_bytes();
        text.extend("名".as_bytes());
        assert_eq!(encoding_of(&text), Some(Encoding::Utf8));
        let mut gbk = vec![b'a'; SNIFF_LEN - 2];
        gbk.extend(GBK.encode("名称").0.iter());
        assert_eq!(encoding_of(&gbk), Some(Encoding::Gbk));
    }

    #[test]
    fn ascii_prefix_lets_the_first_other_field_decide() {
        let text = Text::new(Encoding::Undecided);
        assert_eq!(text.decode(b"abc").unwrap(), "abc");
        let gbk = GBK.encode("交易退款").0;
        assert_eq!(text.decode(&gbk).unwrap(), "交易退款");
        assert_eq!(text.0.get(), Encoding::Gbk);
        assert!(text.decode(b"\xff\xff").is_none());
    }
}
