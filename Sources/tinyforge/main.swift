print("tinyforge")
