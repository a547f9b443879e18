//! `media` records (docs/run-format.md): a media file of the run to upload, and, for images
//! logged from arrays, the raw pixels the agent encodes into that file first. Encoding here keeps
//! PNG compression out of the training loop; the training process only writes raw bytes.
//!
//! ```json
//! {"t":"media","path":"media/images/3f2a….png"}
//! {"t":"media","path":"media/images/3f2a….png",
//!  "encode":{"format":"png","width":224,"height":224,"channels":3,"src":"media/images/3f2a….png.raw"}}
//! ```
use std::fs;
use std::io::BufWriter;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::{CaptureError, validate_rel_path};

/// Largest raw image accepted (width × height × channels bytes); the SDK refuses larger ones.
const MAX_RAW_BYTES: u64 = 256 << 20;

#[derive(Deserialize)]
struct Encode {
    format: String,
    width: u32,
    height: u32,
    channels: u8,
    src: String,
}

#[derive(Deserialize)]
struct MediaRecord {
    path: String,
    encode: Option<Encode>,
}

/// Parses a `media` record and, when it asks for encoding and the file does not exist yet,
/// encodes `files/<src>` into `files/<path>` (then removes the raw file). Returns the validated
/// path to upload.
pub fn prepare(files_dir: &Path, record: &Value) -> Result<String, CaptureError> {
    let rec: MediaRecord =
        serde_json::from_value(record.clone()).map_err(|e| CaptureError::BadRecord(format!("media record: {e}")))?;
    let path = validate_rel_path(&rec.path)?;
    if let Some(enc) = rec.encode {
        let src = validate_rel_path(&enc.src)?;
        let dest = files_dir.join(&path);
        let raw = files_dir.join(&src);
        if !dest.exists() && raw.exists() {
            encode_png(&raw, &dest, &enc)?;
        }
        if dest.exists() && raw.exists() {
            // Both exist after a crash between encoding and removal, or for the same pixels
            // logged twice: the raw bytes are no longer needed.
            let _ = fs::remove_file(&raw);
        }
    }
    Ok(path)
}

/// Raw 8-bit pixels (row-major, `channels` interleaved) to a PNG, written atomically.
fn encode_png(raw: &Path, dest: &Path, enc: &Encode) -> Result<(), CaptureError> {
    if enc.format != "png" {
        return Err(CaptureError::BadRecord(format!("media encode: unknown format {:?} (png)", enc.format)));
    }
    let color = match enc.channels {
        1 => png::ColorType::Grayscale,
        2 => png::ColorType::GrayscaleAlpha,
        3 => png::ColorType::Rgb,
        4 => png::ColorType::Rgba,
        n => {
            return Err(CaptureError::BadRecord(format!("media encode: {n} channels (1-4)")));
        }
    };
    let want = u64::from(enc.width) * u64::from(enc.height) * u64::from(enc.channels);
    if want == 0 || want > MAX_RAW_BYTES {
        return Err(CaptureError::BadRecord(format!(
            "media encode: {}x{}x{} is not a valid image size",
            enc.width, enc.height, enc.channels
        )));
    }
    let pixels = fs::read(raw).map_err(|e| CaptureError::io(raw, e))?;
    if pixels.len() as u64 != want {
        return Err(CaptureError::BadRecord(format!(
            "media encode: {} holds {} bytes, {}x{}x{} needs {want}",
            raw.display(),
            pixels.len(),
            enc.width,
            enc.height,
            enc.channels
        )));
    }
    let tmp = dest.with_extension("png.tmp");
    let file = fs::File::create(&tmp).map_err(|e| CaptureError::io(&tmp, e))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), enc.width, enc.height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let png_err = |e: png::EncodingError| CaptureError::BadRecord(format!("media encode: {e}"));
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&pixels).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    fs::rename(&tmp, dest).map_err(|e| CaptureError::io(dest, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_raw_pixels_to_png_and_removes_them() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = dir.path();
        fs::create_dir_all(files.join("media/images"))?;
        let pixels: Vec<u8> = (0..2 * 3 * 3).map(|i| (i * 10) as u8).collect();
        fs::write(files.join("media/images/a.png.raw"), &pixels)?;
        let rec = serde_json::json!({"t": "media", "path": "media/images/a.png", "encode":
            {"format": "png", "width": 3, "height": 2, "channels": 3, "src": "media/images/a.png.raw"}});
        assert_eq!(prepare(files, &rec)?, "media/images/a.png");
        assert!(!files.join("media/images/a.png.raw").exists());
        let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(files.join("media/images/a.png"))?));
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().ok_or("size")?];
        let info = reader.next_frame(&mut buf)?;
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(&buf[..info.buffer_size()], &pixels[..]);
        Ok(())
    }

    #[test]
    fn refuses_wrong_sizes_and_paths() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = dir.path();
        fs::write(files.join("b.png.raw"), [0u8; 5])?;
        let short = serde_json::json!({"t": "media", "path": "b.png", "encode":
            {"format": "png", "width": 3, "height": 2, "channels": 3, "src": "b.png.raw"}});
        assert!(prepare(files, &short).is_err());
        assert!(!files.join("b.png").exists());
        let escape = serde_json::json!({"t": "media", "path": "../x.png"});
        assert!(prepare(files, &escape).is_err());
        Ok(())
    }
}
