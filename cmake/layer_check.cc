// cmake/layer_check.cc: the program that a layer's objects are linked into on
// their own (CMakeLists.txt, ds_layer_check). It runs nothing: that it links
// shows the layer refers to no symbol of a layer above it.
int main() { return 0; }
