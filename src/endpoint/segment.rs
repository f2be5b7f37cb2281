//! The record format of spool segments: the append-only files that make
//! accepted tickets durable before their 303.
//!
//! A segment is a run of records, each `length` (4 bytes, little endian),
//! `CRC-32` of the payload (4 bytes, little endian), then the payload (one
//! ticket as JSON). Records are only ever appended, and every append is
//! flushed (`fdatasync`) before any post in it is answered, so a crash can
//! damage only the record being appended last. Reading stops at the first
//! record that is incomplete, has a zero or oversized length, or fails its
//! checksum: everything before it is whole, and what follows it was never
//! answered. A zero length is refused because a crash can leave a file's
//! new size on disk with zeros where the data should be (and the CRC-32 of
//! nothing is zero).

/// Bytes before each payload: length and checksum.
pub const HEADER: usize = 8;

/// No ticket comes near this; a length above it is damage.
pub const MAX_RECORD: usize = 16 * 1024 * 1024;

/// Appends one record holding `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    assert!(
        !payload.is_empty() && payload.len() <= MAX_RECORD,
        "a segment record holds 1 byte to {MAX_RECORD} bytes"
    );
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// One record whose payload `write` appends to the buffer it is given:
/// the payload is made in place, not copied. Refused like `encode` when
/// it is empty or oversized.
pub fn record_of(
    capacity: usize,
    write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER + capacity);
    out.extend_from_slice(&[0; HEADER]);
    write(&mut out)?;
    let len = out.len() - HEADER;
    if len == 0 || len > MAX_RECORD {
        return Err(std::io::Error::other(format!(
            "a segment record holds 1 byte to {MAX_RECORD} bytes, not {len}"
        )));
    }
    let crc = crc32fast::hash(&out[HEADER..]);
    out[0..4].copy_from_slice(&(len as u32).to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The whole records of a segment, and where its damaged tail starts.
#[derive(Debug, PartialEq, Eq)]
pub struct Read<'a> {
    pub records: Vec<&'a [u8]>,
    /// The offset of the first byte that is not part of a whole record,
    /// when there is one (a crash while appending).
    pub torn_at: Option<usize>,
}

/// Splits a segment's bytes into its whole records.
pub fn read(bytes: &[u8]) -> Read<'_> {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        match record_at(bytes, pos) {
            Some(payload) => {
                records.push(payload);
                pos += HEADER + payload.len();
            }
            None => {
                return Read {
                    records,
                    torn_at: Some(pos),
                };
            }
        }
    }
    Read {
        records,
        torn_at: None,
    }
}

/// The payload of the record at `pos`, if it is whole.
fn record_at(bytes: &[u8], pos: usize) -> Option<&[u8]> {
    let header = bytes.get(pos..pos + HEADER)?;
    let len = u32::from_le_bytes(header[0..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    if len == 0 || len > MAX_RECORD {
        return None;
    }
    let payload = bytes.get(pos + HEADER..pos + HEADER + len)?;
    (crc32fast::hash(payload) == crc).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut ends = Vec::new();
        for p in [
            &b"{\"reference\":\"A\"}"[..],
            b"x",
            b"{\"reference\":\"CCC\"}",
        ] {
            encode(p, &mut out);
            ends.push(out.len());
        }
        (out, ends)
    }

    #[test]
    fn segment_reader_keeps_whole_records_before_a_torn_tail() {
        let (bytes, ends) = three();
        let whole = read(&bytes);
        assert_eq!(
            whole.records,
            vec![
                &b"{\"reference\":\"A\"}"[..],
                b"x",
                b"{\"reference\":\"CCC\"}"
            ]
        );
        assert_eq!(whole.torn_at, None);
        assert_eq!(
            read(&[]),
            Read {
                records: vec![],
                torn_at: None
            }
        );

        // A crash can cut the last append at any byte: every cut keeps the
        // records before it, and says where the torn one starts.
        for cut in 0..bytes.len() {
            let r = read(&bytes[..cut]);
            let kept = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(r.records.len(), kept, "cut at {cut}");
            let start = if kept == 0 { 0 } else { ends[kept - 1] };
            let expected = (cut > start).then_some(start);
            assert_eq!(r.torn_at, expected, "cut at {cut}");
        }
    }

    #[test]
    fn record_made_in_place_is_the_encoded_record() {
        let payload = b"{\"reference\":\"K7QM-3XDA\"}";
        let mut encoded = Vec::new();
        encode(payload, &mut encoded);
        let made = record_of(4, |buf| {
            buf.extend_from_slice(payload);
            Ok(())
        })
        .unwrap();
        assert_eq!(made, encoded);
        assert!(record_of(0, |_| Ok(())).is_err());
    }

    #[test]
    fn segment_reader_refuses_a_bad_checksum_zeros_and_absurd_lengths() {
        let (bytes, ends) = three();
        // A flipped bit in the last payload.
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 0x01;
        let r = read(&flipped);
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.torn_at, Some(ends[1]));

        // The size grew but the data never reached the disk.
        let mut zeros = bytes[..ends[0]].to_vec();
        zeros.extend_from_slice(&[0u8; 64]);
        let r = read(&zeros);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.torn_at, Some(ends[0]));

        // A damaged length must not make the reader skip or allocate.
        let mut absurd = bytes[..ends[0]].to_vec();
        absurd.extend_from_slice(&u32::MAX.to_le_bytes());
        absurd.extend_from_slice(&[0u8; 12]);
        let r = read(&absurd);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.torn_at, Some(ends[0]));
    }
}
