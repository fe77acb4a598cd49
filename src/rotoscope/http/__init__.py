"""The HTTP face: the AUTOMATIC1111 web UI's ``/sdapi/v1`` API over the API facade (``rotoscope serve``)."""
