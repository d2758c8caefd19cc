#include "base/mapped_file.h"

#include <stdlib.h>

#include "gtest/gtest.h"

namespace pantau::base {
namespace {

TEST(MappedFile, MapsLocalFilesAndReadsOthers) {
  char tmpl[] = "/tmp/pantau_mapped_testXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Env* env = Env::Default();
  ASSERT_TRUE(env->WriteFileAtomically(dir + "/f", "hello").ok());
  auto f = MappedFile::Open(env, dir + "/f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE((*f)->mapped());
  // Deleting the file leaves the mapped bytes readable.
  ASSERT_TRUE(env->DeleteRecursively(dir).ok());
  EXPECT_EQ((*f)->data(), "hello");

  auto mem = NewMemEnv();
  ASSERT_TRUE(mem->WriteFileAtomically("/g", "world").ok());
  auto g = MappedFile::Open(mem.get(), "/g");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_FALSE((*g)->mapped());
  EXPECT_EQ((*g)->data(), "world");
  EXPECT_FALSE(MappedFile::Open(mem.get(), "/missing").ok());
  EXPECT_FALSE(MappedFile::Open(env, dir + "/missing").ok());
}

}  // namespace
}  // namespace pantau::base
