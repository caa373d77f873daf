/**
 * `tf.image`: resizing, cropping, flips and rotations, standardisation, dtype conversion and
 * PNG coding of images in NHWC layout, as TensorFlow 2's namespace.
 * @module
 */
// -- images (helper E) --
export {};
