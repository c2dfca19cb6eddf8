import base64

import numpy as np
import pytest

from ivif.registry.image_codec import ImageCodecError, decode_image, encode_png


@pytest.mark.parametrize("shape", [(7, 5), (9, 11, 3)])
def test_png_round_trip_is_lossless_for_any_size(shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(decode_image(encode_png(image), "x"), image)


def test_grayscale_decode_of_a_colour_image_gives_luma():
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0] = 200
    gray = decode_image(encode_png(rgb), "ir", grayscale=True)
    assert gray.shape == (4, 6)
    assert int(gray[0, 0]) == round(200 * 0.299)  # PIL's ITU-R 601-2 luma


def test_garbage_names_the_column():
    with pytest.raises(ImageCodecError, match="column 'vi'"):
        decode_image("not base64!!", "vi")
    with pytest.raises(ImageCodecError, match="column 'ir'"):
        decode_image(base64.b64encode(b"plain text").decode(), "ir")


def test_line_wrapped_base64_is_accepted():
    image = np.arange(64 * 48, dtype=np.uint32).reshape(48, 64).astype(np.uint8)
    encoded = encode_png(image)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))  # as `base64 file.png` prints
    assert np.array_equal(decode_image(wrapped, "ir"), image)


def test_serving_refuses_over_limit_rows_and_requests_from_headers(monkeypatch):
    import pandas as pd
    from ivif_testkit import flat_png

    from ivif.registry.pyfunc import FusionPyfunc, FusionRequestError

    png = lambda side: base64.b64encode(flat_png(side, side)).decode()
    model = FusionPyfunc()  # no weights loaded: the checks run before any fusion
    monkeypatch.setenv("IVIF_MAX_PIXELS", "5000")
    with pytest.raises(FusionRequestError, match=r"column 'ir' \(row 1\): 80x80 is 0.0 megapixels, over the limit") as caught:
        model.predict(None, pd.DataFrame({"ir": [png(60), png(80)], "vi": [png(60), png(80)]}))
    assert caught.value.get_http_status_code() == 400
    monkeypatch.delenv("IVIF_MAX_PIXELS")
    monkeypatch.setenv("IVIF_MAX_REQUEST_PIXELS", "6000")
    with pytest.raises(FusionRequestError, match="0.0 megapixels of image pairs, over the per-request limit .*IVIF_MAX_REQUEST_PIXELS"):
        model.predict(None, pd.DataFrame({"ir": [png(60), png(60)], "vi": [png(60), png(60)]}))
    with pytest.raises(FusionRequestError, match="row 0: ir is 60x60 but vi is 70x70"):
        model.predict(None, pd.DataFrame({"ir": [png(60)], "vi": [png(70)]}))
