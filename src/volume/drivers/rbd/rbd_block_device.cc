#include "volume/drivers/rbd/rbd_block_device.h"

#include <atomic>
#include <cerrno>
#include <thread>
#include <utility>

#include "volume/read_only_block_device.h"

namespace scoria::volume {
namespace {

// Set while a completion callback runs on librbd's thread: see ~ImageHandle.
thread_local bool tl_in_completion = false;

// The open image and the connection it needs, shared by the device and its requests.
struct ImageHandle {
  ImageHandle(std::shared_ptr<RbdCluster> c, rbd_image_t i, std::string n)
      : cluster(std::move(c)), image(i), name(std::move(n)) {}
  ~ImageHandle() {
    if (!tl_in_completion) {
      rbd_close(image);
      return;
    }
    // rbd_close waits for librbd's completion work to drain, which includes the callback
    // running on this very thread: close from elsewhere.
    std::thread([cluster = std::move(cluster), image = image] { rbd_close(image); }).detach();
  }
  std::shared_ptr<RbdCluster> cluster;
  rbd_image_t image;
  const std::string name;
};

struct Request {
  std::shared_ptr<ImageHandle> handle;
  IoCallback done;
  const char* op;          // for messages: "read", "write", ...
  uint64_t offset;
  uint64_t expect_bytes;   // a read must return exactly this many; 0: not checked
};

void OnComplete(rbd_completion_t c, void* arg) {
  Request* req = static_cast<Request*>(arg);
  const ssize_t r = rbd_aio_get_return_value(c);
  rbd_aio_release(c);
  Status st;
  if (r < 0) {
    st = req->handle->cluster->Error(static_cast<int>(r), std::string(req->op) + " image " +
                                                              req->handle->name + " at " +
                                                              std::to_string(req->offset));
  } else if (req->expect_bytes != 0 && static_cast<uint64_t>(r) != req->expect_bytes) {
    st = Internal("rbd: short " + std::string(req->op) + " of image " + req->handle->name +
                  " at " + std::to_string(req->offset) + ": " + std::to_string(r) + " of " +
                  std::to_string(req->expect_bytes) + " bytes");
  }
  tl_in_completion = true;
  req->done(std::move(st));
  delete req;  // may drop the last reference to the image
  tl_in_completion = false;
}

class RbdBlockDevice final : public BlockDevice {
 public:
  RbdBlockDevice(std::shared_ptr<ImageHandle> handle, uint64_t size)
      : handle_(std::move(handle)), size_(size) {}

  uint64_t Size() const override { return size_.load(std::memory_order_relaxed); }

  Status Refresh() override {
    uint64_t size = 0;
    int r = rbd_get_size(handle_->image, &size);
    if (r < 0) return handle_->cluster->Error(r, "size of image " + handle_->name);
    size_.store(size, std::memory_order_relaxed);
    return Status::Ok();
  }

  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    if (!InRange(offset, buf.size(), done)) return;
    Submit("read", offset, buf.size(), std::move(done), [&](rbd_completion_t c) {
      return rbd_aio_read(handle_->image, offset, buf.size(), reinterpret_cast<char*>(buf.data()),
                          c);
    });
  }

  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    if (!InRange(offset, buf.size(), done)) return;
    Submit("write", offset, 0, std::move(done), [&](rbd_completion_t c) {
      return rbd_aio_write2(handle_->image, offset, buf.size(),
                            reinterpret_cast<const char*>(buf.data()), c,
                            fua ? LIBRADOS_OP_FLAG_FADVISE_FUA : 0);
    });
  }

  void Flush(IoCallback done) override {
    Submit("flush", 0, 0, std::move(done),
           [&](rbd_completion_t c) { return rbd_aio_flush(handle_->image, c); });
  }

  void Discard(uint64_t offset, uint64_t length, IoCallback done) override {
    if (!InRange(offset, length, done)) return;
    Submit("discard", offset, 0, std::move(done), [&](rbd_completion_t c) {
      return rbd_aio_discard(handle_->image, offset, length, c);
    });
  }

  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) override {
    if (!InRange(offset, length, done)) return;
    // Without unmap the range must stay allocated: librbd's thick-provision flag writes zeroes
    // instead of punching holes.
    const int flags = unmap ? 0 : RBD_WRITE_ZEROES_FLAG_THICK_PROVISION;
    Submit("write-zeroes", offset, 0, std::move(done), [&](rbd_completion_t c) {
      return rbd_aio_write_zeroes(handle_->image, offset, length, c, flags, 0);
    });
  }

 private:
  bool InRange(uint64_t offset, uint64_t length, IoCallback& done) {
    const uint64_t size = Size();
    if (offset > size || length > size - offset) {
      done(InvalidArgument("rbd: I/O at " + std::to_string(offset) + "+" +
                           std::to_string(length) + " beyond the end of image " + handle_->name +
                           " (" + std::to_string(size) + " bytes)"));
      return false;
    }
    return true;
  }

  template <typename Start>
  void Submit(const char* op, uint64_t offset, uint64_t expect_bytes, IoCallback done,
              Start&& start) {
    auto* req = new Request{handle_, std::move(done), op, offset, expect_bytes};
    rbd_completion_t c = nullptr;
    int r = rbd_aio_create_completion(req, OnComplete, &c);
    if (r == 0) {
      r = start(c);
      if (r >= 0) return;
      rbd_aio_release(c);
    }
    IoCallback cb = std::move(req->done);
    Status st = handle_->cluster->Error(r, std::string(op) + " image " + handle_->name);
    delete req;
    cb(std::move(st));
  }

  std::shared_ptr<ImageHandle> handle_;
  std::atomic<uint64_t> size_;
};

}  // namespace

Result<std::shared_ptr<BlockDevice>> OpenRbdBlockDevice(std::shared_ptr<RbdCluster> cluster,
                                                        const std::string& image,
                                                        const std::string& snapshot) {
  auto opened = snapshot.empty() ? RbdImage::Open(*cluster, image)
                                 : RbdImage::OpenReadOnly(*cluster, image, snapshot);
  if (!opened.ok()) return opened.status();
  uint64_t size = 0;
  int r = rbd_get_size(opened->get(), &size);
  if (r < 0) return cluster->Error(r, "size of image " + image);
  const std::string name = snapshot.empty() ? image : image + "@" + snapshot;
  auto handle = std::make_shared<ImageHandle>(std::move(cluster), opened->Release(), name);
  auto device = std::make_shared<RbdBlockDevice>(std::move(handle), size);
  if (snapshot.empty()) return std::shared_ptr<BlockDevice>(std::move(device));
  return std::shared_ptr<BlockDevice>(std::make_shared<ReadOnlyBlockDevice>(std::move(device)));
}

}  // namespace scoria::volume
