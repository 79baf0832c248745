//! Hand-made zstd frames for decompression-bomb cases.
//!
//! Compressing gigabytes of zeros with the real encoder would take seconds per test run; a frame
//! of RLE blocks (RFC 8878 §3.1.1.2: 3-byte block header + 1 byte repeated `size` times) expands
//! to exactly the size we choose from a few bytes per 128 KiB, deterministically. The frames are
//! valid zstd: the reader's decoder decodes them until the declared-size cap cuts it off.

const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// Largest block (and our window): 128 KiB.
pub const MAX_BLOCK: u64 = 128 * 1024;

/// A frame that decompresses to `total` zero bytes, with a 128 KiB window and no content size.
pub fn rle_bomb(total: u64) -> Vec<u8> {
    frame_with_window(0x38, total)
}

/// A frame whose window descriptor asks for `2^window_log` bytes of decoder memory (window_log
/// 10..=41), followed by `total` bytes of RLE zeros.
pub fn window_bomb(window_log: u8, total: u64) -> Vec<u8> {
    frame_with_window((window_log - 10) << 3, total)
}

fn frame_with_window(window_descriptor: u8, total: u64) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    // Frame header descriptor: no content size, not single-segment, no checksum, no dictionary.
    out.push(0x00);
    out.push(window_descriptor);
    let mut left = total;
    loop {
        let size = left.min(MAX_BLOCK);
        left -= size;
        let last = u32::from(left == 0);
        // Block header: bit 0 last-block, bits 1-2 type (1 = RLE), bits 3.. size.
        let h = last | (1 << 1) | ((size as u32) << 3);
        out.extend_from_slice(&h.to_le_bytes()[..3]);
        out.push(0);
        if left == 0 {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn rle_frame_decodes_to_the_chosen_size() {
        let frame = rle_bomb(3 * MAX_BLOCK + 5);
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(&frame[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len() as u64, 3 * MAX_BLOCK + 5);
        assert!(out.iter().all(|&b| b == 0));
    }
}
