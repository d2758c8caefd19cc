#include "base/env.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"

namespace pantau::base {
namespace {

// Runs the same contract against the POSIX and the in-memory Env.
class EnvTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      mem_ = NewMemEnv();
      env_ = mem_.get();
      dir_ = "/t";
    } else {
      env_ = Env::Default();
      char tmpl[] = "/tmp/pantau_env_testXXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
    }
    ASSERT_TRUE(env_->CreateDir(dir_).ok());
  }
  void TearDown() override { (void)env_->DeleteRecursively(dir_); }

  std::unique_ptr<Env> mem_;
  Env* env_;
  std::string dir_;
};

TEST_P(EnvTest, WriteAppendReadBack) {
  const std::string p = dir_ + "/f";
  {
    auto f = env_->NewWritableFile(p);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("hello ").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  {
    auto f = env_->NewAppendableFile(p);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Size(), 6u);
    ASSERT_TRUE((*f)->Append("world").ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  EXPECT_EQ(*env_->ReadFileToString(p), "hello world");
  EXPECT_EQ(*env_->GetFileSize(p), 11u);
  auto r = env_->NewRandomAccessFile(p);
  ASSERT_TRUE(r.ok());
  std::string out;
  ASSERT_TRUE((*r)->Read(6, 100, &out).ok());
  EXPECT_EQ(out, "world");
  ASSERT_TRUE(env_->TruncateFile(p, 5).ok());
  EXPECT_EQ(*env_->ReadFileToString(p), "hello");
}

TEST_P(EnvTest, DirectoryOperations) {
  ASSERT_TRUE(env_->CreateDir(dir_ + "/sub").ok());
  ASSERT_TRUE(env_->CreateDir(dir_ + "/sub").ok());  // exists: fine
  ASSERT_TRUE(env_->WriteFileAtomically(dir_ + "/sub/a", "x").ok());
  ASSERT_TRUE(env_->RenameFile(dir_ + "/sub", dir_ + "/moved").ok());
  EXPECT_FALSE(env_->FileExists(dir_ + "/sub"));
  EXPECT_EQ(*env_->ReadFileToString(dir_ + "/moved/a"), "x");
  auto kids = env_->GetChildren(dir_);
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(*kids, std::vector<std::string>{"moved"});
  EXPECT_FALSE(env_->DeleteDir(dir_ + "/moved").ok());  // not empty
  ASSERT_TRUE(env_->DeleteRecursively(dir_ + "/moved").ok());
  EXPECT_FALSE(env_->FileExists(dir_ + "/moved"));
  EXPECT_EQ(env_->NewSequentialFile(dir_ + "/nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(EnvTest, LockIsExclusive) {
  auto a = env_->LockFile(dir_ + "/LOCK");
  ASSERT_TRUE(a.ok());
  if (GetParam()) {
    // fcntl locks are per process, so only the in-memory Env can show a
    // second holder being refused within one process.
    EXPECT_FALSE(env_->LockFile(dir_ + "/LOCK").ok());
    a->reset();
    EXPECT_TRUE(env_->LockFile(dir_ + "/LOCK").ok());
  }
}

INSTANTIATE_TEST_SUITE_P(PosixAndMem, EnvTest, ::testing::Bool());

TEST(FaultInjectionEnv, FailsSyncsAndDropsUnsyncedData) {
  auto mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  auto f = env.NewWritableFile("f");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("synced").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("+lost").ok());
  env.FailNextSyncs(1);
  EXPECT_FALSE((*f)->Sync().ok());
  EXPECT_EQ(env.sync_count(), 1);
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(*env.ReadFileToString("f"), "synced");
}

TEST(FaultInjectionEnv, TornWriteLeavesAPrefix) {
  auto mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  auto f = env.NewWritableFile("f");
  ASSERT_TRUE(f.ok());
  env.FailNextAppends(1, 3);
  EXPECT_FALSE((*f)->Append("abcdef").ok());
  EXPECT_TRUE((*f)->Append("XY").ok());
  EXPECT_EQ(*env.ReadFileToString("f"), "abcXY");
}

}  // namespace
}  // namespace pantau::base
