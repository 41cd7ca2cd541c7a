//! Thumbnails for pictures, decoded within a bounded number of pixels.

use image::ImageDecoder;

use crate::blobs::{BlobHash, BlobStore};
use crate::heavy::{Heavy, Job, Refused};

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::metadata::Orientation;
use image::{DynamicImage, ImageFormat, RgbImage};

/// The longest side of a thumbnail, in pixels: sharp on a card in a grid on a tablet, small
/// enough that a class page of them loads quickly over school Wi-Fi.
pub const THUMB_MAX: u32 = 320;

/// Pictures larger than this on either side are refused before decoding: no camera makes them,
/// and a tiny file claiming such a size is a decompression bomb. JPEGs, which are decoded
/// scaled down, may be larger (up to the format's 65,535).
pub(super) const MAX_DIMENSION: u32 = 12_000;
/// The most memory the decoded pixels of one picture may take, at the size they are decoded.
/// A thumbnail is 320 pixels, so nothing needs more: a JPEG larger than this is decoded at
/// 1/2, 1/4 or 1/8 of its size (its DCT blocks scaled as they are decoded), and other pictures
/// that large (a PNG scan of more than ~8 megapixels, a decompression bomb) are refused
/// before a byte of them is decoded. With the file's buffers and the thumbnail this keeps one
/// picture under `heavy::MEMORY_PER_FILE` (64 MiB); the tests measure it.
const MAX_DECODE_BYTES: u64 = 32 * 1024 * 1024;
/// A progressive JPEG keeps every DCT coefficient of the whole picture (2 bytes per pixel and
/// colour channel at full size) until its last scan, whatever size it is decoded at; larger
/// ones (over ~8 megapixels in colour) are refused.
const MAX_PROGRESSIVE_COEFFICIENT_BYTES: u64 = 48 * 1024 * 1024;
/// What a JPEG is scaled down towards while decoding: twice the thumbnail, so the final box
/// filter still has pixels to average.
const JPEG_DECODE_TOWARDS: u16 = 2 * THUMB_MAX as u16;
const THUMB_QUALITY: u8 = 80;
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("this kind of file cannot be made into a preview")]
    Unsupported,
    #[error("the picture is too large to make a preview of")]
    TooLarge,
    #[error("could not read or write the preview: {0}")]
    Io(#[from] io::Error),
    #[error("the picture could not be read: {0}")]
    Image(String),
}

impl From<image::ImageError> for MediaError {
    fn from(e: image::ImageError) -> Self {
        match e {
            image::ImageError::Limits(_) => MediaError::TooLarge,
            image::ImageError::Unsupported(_) => MediaError::Unsupported,
            image::ImageError::IoError(e) => MediaError::Io(e),
            other => MediaError::Image(other.to_string()),
        }
    }
}

/// Writes a JPEG of at most [`THUMB_MAX`]×[`THUMB_MAX`] (aspect kept, never enlarged) of the
/// picture at `source` to `dest`.
///
/// The format comes from the bytes, not the name. Decoding is bounded in size and memory, so a
/// decompression bomb fails with [`MediaError::TooLarge`] instead of taking the box down. The
/// camera's orientation tag is applied (phone photos are otherwise sideways), transparency is
/// flattened onto white (drawings), and no metadata is copied, so a thumbnail never carries
/// the GPS position a photo may hold. `dest` appears whole or not at all: the JPEG goes to a
/// temporary file beside it (`.<name>.<pid>-<n>.tmp`) that is renamed into place.
///
/// This blocks and uses at most a few tens of MiB, whatever the file: run it on the blocking
/// pool through the `heavy` gate (a few at a time, failures remembered).
pub fn make_thumbnail(source: &Path, dest: &Path) -> Result<(), MediaError> {
    let (picture, orientation) = decode_bounded(source)?;
    // Scaled first, turned after: turning the full picture would need a second copy of it.
    // Fitting into a square box commutes with quarter turns, so the result is the same.
    let mut small = if picture.width() > THUMB_MAX || picture.height() > THUMB_MAX {
        picture.thumbnail(THUMB_MAX, THUMB_MAX)
    } else {
        picture
    };
    small.apply_orientation(orientation);
    let rgb = flatten_onto_white(small);
    write_atomically(dest, |out| {
        image::codecs::jpeg::JpegEncoder::new_with_quality(out, THUMB_QUALITY).encode_image(&rgb)?;
        Ok(())
    })
}

/// Decodes the picture at `source` within [`MAX_DECODE_BYTES`] of pixels, with its camera
/// orientation. The size is read from the header and checked before anything is decoded,
/// so a file claiming 11,800 × 11,800 pixels costs a few bytes of header, not 418 MB.
fn decode_bounded(source: &Path) -> Result<(DynamicImage, Orientation), MediaError> {
    let reader = image::ImageReader::open(source)?.with_guessed_format()?;
    let format = reader.format();
    if format == Some(ImageFormat::Jpeg) {
        return decode_jpeg_scaled(source);
    }
    // GIF and WebP decoders keep a frame of their own beside the picture they hand over.
    let budget = match format {
        Some(ImageFormat::Png) => MAX_DECODE_BYTES,
        Some(ImageFormat::Gif | ImageFormat::WebP) => MAX_DECODE_BYTES / 2,
        _ => return Err(MediaError::Unsupported),
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(budget);
    let mut reader = reader;
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder()?;
    // What `ImageReader::decode` does too: refuse before allocating the output buffer.
    limits.reserve(decoder.total_bytes())?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    Ok((DynamicImage::from_decoder(decoder)?, orientation))
}

/// A JPEG decoded straight at 1/1, 1/2, 1/4 or 1/8 of its size (the smallest that is still
/// at least [`JPEG_DECODE_TOWARDS`] on one side), read from the file as it goes rather than
/// loaded whole, so a 48-megapixel photo costs what a 3-megapixel one does.
fn decode_jpeg_scaled(source: &Path) -> Result<(DynamicImage, Orientation), MediaError> {
    use jpeg_decoder::{CodingProcess, PixelFormat};
    let file = io::BufReader::new(File::open(source)?);
    let mut decoder = jpeg_decoder::Decoder::new(file);
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder.info().ok_or_else(|| MediaError::Image("the picture has no frame".into()))?;
    let channels: u64 = match info.pixel_format {
        PixelFormat::L8 => 1,
        PixelFormat::RGB24 => 3,
        // CMYK (print files) and 16-bit grey (medical, scientific) have no preview.
        PixelFormat::CMYK32 | PixelFormat::L16 => return Err(MediaError::Unsupported),
    };
    if info.coding_process == CodingProcess::DctProgressive
        && u64::from(info.width) * u64::from(info.height) * channels * 2 > MAX_PROGRESSIVE_COEFFICIENT_BYTES
    {
        return Err(MediaError::TooLarge);
    }
    let (width, height) = decoder.scale(JPEG_DECODE_TOWARDS, JPEG_DECODE_TOWARDS).map_err(jpeg_error)?;
    let decoded = u64::from(width) * u64::from(height) * channels;
    if width == 0 || height == 0 || decoded > MAX_DECODE_BYTES {
        return Err(MediaError::TooLarge);
    }
    decoder.set_max_decoding_buffer_size(MAX_DECODE_BYTES as usize);
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let (width, height) = (u32::from(width), u32::from(height));
    let picture = match info.pixel_format {
        PixelFormat::L8 => image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        _ => RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
    };
    let picture = picture.ok_or_else(|| MediaError::Image("the picture ended early".into()))?;
    Ok((picture, orientation))
}

fn jpeg_error(e: jpeg_decoder::Error) -> MediaError {
    match e {
        jpeg_decoder::Error::Io(e) => MediaError::Io(e),
        jpeg_decoder::Error::Unsupported(_) => MediaError::Unsupported,
        other => MediaError::Image(other.to_string()),
    }
}

/// RGB for JPEG. Dropping alpha would show whatever colour transparent pixels happen to hold
/// (often black); a drawing on paper is on white.
fn flatten_onto_white(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.into_rgb8();
    }
    let rgba = picture.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = u32::from(a);
        let over_white = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// Writes through `write` into a fresh temporary file beside `dest`, syncs it and renames it
/// over `dest`; on any failure the temporary file is removed and `dest` is untouched. The sync
/// keeps a power cut from leaving an empty thumbnail that would never be remade.
fn write_atomically(
    dest: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dest.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let temp = TempFile(dest.with_file_name(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )));
    let file = OpenOptions::new().write(true).create_new(true).open(&temp.0)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp.0, dest)?;
    std::mem::forget(temp);
    Ok(())
}

/// Removes a temporary file when dropped (on every early return).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Where thumbnails are kept (derived: made again on request; bounded by `disk_cache`).
pub fn thumbnails_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("thumbs")
}

/// Where the thumbnail of the stored file `hash_hex` is kept.
pub fn thumbnail_path(data_dir: &Path, hash_hex: &str) -> PathBuf {
    thumbnails_dir(data_dir).join(format!("{hash_hex}.jpg"))
}

/// Makes the thumbnail for one stored image, if it is missing. Returns its path.
///
/// The decode goes through the [`Heavy`] gate: a few at once, one per file, and a picture that
/// failed (or was being decoded when folio died) is not decoded again: it has no preview
/// and is still served as itself.
pub fn ensure_thumbnail(
    data_dir: &Path,
    blobs: &BlobStore,
    heavy: &Heavy,
    hash_hex: &str,
) -> Result<PathBuf, Refused<MediaError>> {
    let dest = thumbnail_path(data_dir, hash_hex);
    if dest.exists() {
        crate::disk_cache::used(&dest);
        return Ok(dest);
    }
    let hash = BlobHash::from_hex(hash_hex).ok_or(Refused::Failed(MediaError::Unsupported))?;
    heavy.run(
        Job::Thumbnail,
        &hash,
        || {
            // Made meanwhile by the request this one waited for.
            if dest.exists() {
                return Ok(dest.clone());
            }
            std::fs::create_dir_all(dest.parent().expect("thumbs/ has a parent"))?;
            // From a bucket, a temporary copy (the decoder seeks); the thumbnail itself is
            // kept on the box's disk.
            let source = blobs
                .local_copy(&hash)
                .map_err(|e| MediaError::Io(e.into_io()))?
                .ok_or_else(|| MediaError::Io(std::io::ErrorKind::NotFound.into()))?;
            make_thumbnail(&source, &dest)?;
            Ok(dest.clone())
        },
        |e| lies_in_the_file(e, blobs.contains(&hash)),
    )
}

/// Whether a thumbnail failure is the picture's own (remembered, never tried again) rather
/// than the box's (a full disk, a file still on its way from another box).
fn lies_in_the_file(e: &MediaError, stored: bool) -> bool {
    match e {
        MediaError::Io(io) => {
            stored && matches!(io.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData)
        }
        MediaError::Unsupported | MediaError::TooLarge | MediaError::Image(_) => true,
    }
}
